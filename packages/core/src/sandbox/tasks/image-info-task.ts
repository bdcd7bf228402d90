/**
 * Sandbox task `image-info`: the format, frames and size of each frame of an image file, read from
 * its headers without decoding any pixels (libvips opens images lazily), so an image bomb is
 * refused before it takes memory.
 */
import sharp, { type Metadata } from 'sharp';
import { TaskFailure } from '../protocol.js';

export interface ImageInfoTaskInput {
  data: Uint8Array;
  maxPixels: number;
  maxFrames: number;
}

export interface ImageInfoTaskOutput {
  format: string;
  frames: Array<{ width: number; height: number }>;
}

export async function run(input: ImageInfoTaskInput): Promise<ImageInfoTaskOutput> {
  let first: Metadata;
  try {
    first = await sharp(input.data, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new TaskFailure('corrupt', `is not a readable image: ${(error as Error).message}`);
  }
  const count = first.pages ?? 1;
  if (count > input.maxFrames) {
    throw new TaskFailure(
      'too_many_pages',
      `has ${count} pages, more than the limit of ${input.maxFrames} (maxPages)`,
      {
        pageCount: count,
        limit: input.maxFrames,
      },
    );
  }
  const frames: ImageInfoTaskOutput['frames'] = [];
  for (let frame = 0; frame < count; frame++) {
    // Frames of a TIFF may differ in size: each is read from its own directory entry.
    const meta =
      frame === 0 && count === 1
        ? first
        : await sharp(input.data, { page: frame, limitInputPixels: false }).metadata();
    const width = meta.width ?? 0;
    const height = meta.height ?? 0;
    if (width * height > input.maxPixels) {
      throw new TaskFailure(
        'too_large',
        `page ${frame + 1} is an image of ${width} × ${height} pixels, more than the limit of ${input.maxPixels} pixels (maxPixels)`,
        { width, height, limit: input.maxPixels, page: frame + 1 },
      );
    }
    frames.push({ width, height });
  }
  return { format: first.format ?? 'unknown', frames };
}
