/**
 * Just enough of kustomize to check Quire's manifests without the binary: resources (files and
 * bases), ConfigMap/Secret generators from env files (create and merge), `images`, and patches
 * applied as JSON merge patches. Patches are refused if they hold lists (there strategic merge and
 * JSON merge differ) or touch env, so this reading and `kubectl kustomize` agree on everything the
 * tests look at. Name hashes, labels and namespaces are not applied: nothing checked depends on them.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readEnvFile } from './env-file.js';
import {
  isRecord,
  type Json,
  list,
  optionalList,
  readYaml,
  readYamlDocuments,
  record,
  shown,
  text,
} from './files.js';

export interface ImageOverride {
  name: string;
  newName: string | undefined;
  newTag: string | undefined;
}

export interface Build {
  resources: Json[];
  configMaps: Map<string, Map<string, string>>;
  secrets: Map<string, Map<string, string>>;
  images: Map<string, ImageOverride>;
  namespace: string | undefined;
}

export interface Reference {
  /** The kustomization that names it. */
  from: string;
  field: string;
  path: string;
}

function kustomization(dir: string): Json {
  return record(readYaml(join(dir, 'kustomization.yaml')), shown(join(dir, 'kustomization.yaml')));
}

function entryPaths(dir: string, value: unknown, what: string): string[] {
  return optionalList(value, what).map((entry, i) => join(dir, text(entry, `${what}[${i}]`)));
}

/** Every file or directory a kustomization (and its bases) refers to. */
export function references(dir: string): Reference[] {
  const k = kustomization(dir);
  const from = shown(join(dir, 'kustomization.yaml'));
  const refs: Reference[] = [];
  const add = (field: string, paths: string[]) => {
    for (const path of paths) refs.push({ from, field, path });
  };
  const resources = entryPaths(dir, k.resources, `${from} resources`);
  add('resources', resources);
  for (const field of ['configMapGenerator', 'secretGenerator']) {
    optionalList(k[field], `${from} ${field}`).forEach((g, i) => {
      const generator = record(g, `${from} ${field}[${i}]`);
      add(`${field}.envs`, entryPaths(dir, generator.envs, `${from} ${field}[${i}].envs`));
    });
  }
  add('configurations', entryPaths(dir, k.configurations, `${from} configurations`));
  optionalList(k.patches, `${from} patches`).forEach((p, i) => {
    const patch = record(p, `${from} patches[${i}]`);
    add('patches', [
      join(dir, text(patch.path, `${from} patches[${i}].path (inline patches are not used here)`)),
    ]);
  });
  for (const resource of resources) {
    if (existsSync(resource) && statSync(resource).isDirectory()) refs.push(...references(resource));
  }
  return refs;
}

function generate(
  into: Map<string, Map<string, string>>,
  dir: string,
  generators: unknown,
  what: string,
): void {
  optionalList(generators, what).forEach((g, i) => {
    const generator = record(g, `${what}[${i}]`);
    const name = text(generator.name, `${what}[${i}].name`);
    const data = new Map<string, string>();
    for (const path of entryPaths(dir, generator.envs, `${what}[${i}].envs`)) {
      for (const [key, value] of readEnvFile(path).values) data.set(key, value);
    }
    optionalList(generator.literals, `${what}[${i}].literals`).forEach((l, j) => {
      const [key = '', ...rest] = text(l, `${what}[${i}].literals[${j}]`).split('=');
      data.set(key, rest.join('='));
    });
    const behavior = generator.behavior ?? 'create';
    const existing = into.get(name);
    if (behavior === 'merge') {
      if (!existing) throw new Error(`${what}[${i}]: merges into ${name}, which no base generates`);
      for (const [key, value] of data) existing.set(key, value);
    } else if (behavior === 'replace' || existing === undefined) {
      into.set(name, data);
    } else {
      throw new Error(`${what}[${i}]: ${name} is generated twice`);
    }
  });
}

/** RFC 7386 JSON merge patch (null deletes). */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return patch;
  const result: Json = isRecord(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** Keys anywhere in `value`, with a flag for lists. */
function walk(value: unknown, visit: (key: string, value: unknown) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, visit);
  } else if (isRecord(value)) {
    for (const [key, child] of Object.entries(value)) {
      visit(key, child);
      walk(child, visit);
    }
  }
}

export function kindAndName(resource: Json): string {
  const metadata = record(resource.metadata, 'metadata');
  return `${text(resource.kind, 'kind')}/${text(metadata.name, 'metadata.name')}`;
}

export function build(dir: string): Build {
  const k = kustomization(dir);
  const from = shown(join(dir, 'kustomization.yaml'));
  const result: Build = {
    resources: [],
    configMaps: new Map(),
    secrets: new Map(),
    images: new Map(),
    namespace: undefined,
  };
  for (const path of entryPaths(dir, k.resources, `${from} resources`)) {
    if (statSync(path).isDirectory()) {
      const base = build(path);
      result.resources.push(...base.resources);
      for (const [name, data] of base.configMaps) result.configMaps.set(name, data);
      for (const [name, data] of base.secrets) result.secrets.set(name, data);
      for (const [name, image] of base.images) result.images.set(name, image);
      result.namespace = base.namespace;
    } else {
      result.resources.push(
        ...readYamlDocuments(path).map((doc, i) => record(doc, `${shown(path)} document ${i + 1}`)),
      );
    }
  }
  generate(result.configMaps, dir, k.configMapGenerator, `${from} configMapGenerator`);
  generate(result.secrets, dir, k.secretGenerator, `${from} secretGenerator`);
  optionalList(k.images, `${from} images`).forEach((entry, i) => {
    const image = record(entry, `${from} images[${i}]`);
    const name = text(image.name, `${from} images[${i}].name`);
    const previous = result.images.get(name);
    result.images.set(name, {
      name,
      newName: typeof image.newName === 'string' ? image.newName : previous?.newName,
      newTag: typeof image.newTag === 'string' ? image.newTag : previous?.newTag,
    });
  });
  if (typeof k.namespace === 'string') result.namespace = k.namespace;
  optionalList(k.patches, `${from} patches`).forEach((p, i) => {
    const path = join(dir, text(record(p, `${from} patches[${i}]`).path, `${from} patches[${i}].path`));
    for (const patch of readYamlDocuments(path)) {
      const doc = record(patch, shown(path));
      walk(doc, (key, value) => {
        if (Array.isArray(value))
          throw new Error(`${shown(path)}: ${key} is a list; keep patches to mappings`);
        if (key === 'env' || key === 'envFrom')
          throw new Error(`${shown(path)}: settings belong in env files`);
      });
      const target = kindAndName(doc);
      const index = result.resources.findIndex((r) => kindAndName(r) === target);
      if (index < 0) throw new Error(`${shown(path)}: patches ${target}, which the build does not contain`);
      result.resources[index] = record(mergePatch(result.resources[index], doc), target);
    }
  });
  return result;
}

export function ofKind(build: Build, kind: string): Json[] {
  return build.resources.filter((r) => r.kind === kind);
}

export function byName(build: Build, kind: string, name: string): Json {
  const found = build.resources.find((r) => kindAndName(r) === `${kind}/${name}`);
  if (!found) throw new Error(`${kind}/${name} is not in the build`);
  return found;
}

export interface Container {
  deployment: string;
  spec: Json;
  pod: Json;
  deploymentSpec: Json;
}

/** The (single) container of each Deployment, with its pod spec. */
export function deploymentContainers(build: Build): Container[] {
  return ofKind(build, 'Deployment').map((d) => {
    const deployment = kindAndName(d);
    const spec = record(d.spec, `${deployment} spec`);
    const pod = record(record(spec.template, `${deployment} template`).spec, `${deployment} pod spec`);
    const containers = list(pod.containers, `${deployment} containers`);
    if (containers.length !== 1) throw new Error(`${deployment}: expected one container`);
    return { deployment, spec: record(containers[0], `${deployment} container`), pod, deploymentSpec: spec };
  });
}

/**
 * The environment a container gets: its ConfigMaps (envFrom, in order), then its `env` entries,
 * values from Secrets resolved. A missing non-optional Secret key is an error.
 */
export function containerEnv(build: Build, container: Container): Record<string, string> {
  const env: Record<string, string> = {};
  const where = container.deployment;
  optionalList(container.spec.envFrom, `${where} envFrom`).forEach((e, i) => {
    const source = record(e, `${where} envFrom[${i}]`);
    const ref = record(source.configMapRef, `${where} envFrom[${i}].configMapRef (only ConfigMaps are used)`);
    const name = text(ref.name, `${where} envFrom[${i}].configMapRef.name`);
    const data = build.configMaps.get(name);
    if (!data) throw new Error(`${where}: ConfigMap ${name} is not generated`);
    for (const [key, value] of data) env[key] = value;
  });
  optionalList(container.spec.env, `${where} env`).forEach((e, i) => {
    const entry = record(e, `${where} env[${i}]`);
    const name = text(entry.name, `${where} env[${i}].name`);
    if (typeof entry.value === 'string') {
      env[name] = entry.value;
      return;
    }
    const ref = record(
      record(entry.valueFrom, `${where} ${name}.valueFrom`).secretKeyRef,
      `${where} ${name}`,
    );
    const secretName = text(ref.name, `${where} ${name} secret`);
    const key = text(ref.key, `${where} ${name} key`);
    const value = build.secrets.get(secretName)?.get(key);
    if (value !== undefined) env[name] = value;
    else if (ref.optional !== true)
      throw new Error(`${where}: ${name} needs Secret ${secretName} key ${key}`);
  });
  return env;
}
