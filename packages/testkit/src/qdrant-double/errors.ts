/** A request the double refuses; the server answers it with `status` and Qdrant's error body. */
export class QdrantDoubleError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = 'QdrantDoubleError';
    this.status = status;
  }
}
