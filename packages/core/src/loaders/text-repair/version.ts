/**
 * Version of the text repair rules (this folder); part of a document's extraction recipe, so a
 * change to any rule must bump it (documents ingested before are then re-extracted rather than
 * kept). A module of its own, importing nothing, so that the recipe can read it without a cycle.
 */
export const TEXT_REPAIR_VERSION = 1;
