;; The dense scan of the SQLite store's in-memory vectors (dense-vectors.ts): dot products of one
;; query with every stored vector, four f32x4 lanes at a time. Unit vectors make the dot product the
;; cosine similarity. Compiled to the bytes in dense-kernel.ts by `pnpm --filter @quire/core
;; dense-kernel` (wabt); a test checks that the bytes are this text's.
(module
  (import "env" "memory" (memory 1))
  ;; scores(query, vectors, count, stride, out): for i < count, out[i] = Σ query[j] × vectors[i][j].
  ;; Addresses in bytes, 16-aligned; stride is the floats per vector, a multiple of 16, the vectors
  ;; padded with zeros beyond their dimension.
  (func (export "scores") (param $q i32) (param $v i32) (param $n i32) (param $stride i32) (param $out i32)
    (local $i i32) (local $j i32) (local $rowBytes i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $rowBytes (i32.shl (local.get $stride) (i32.const 2)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $a0 (v128.const f32x4 0 0 0 0))
        (local.set $a1 (v128.const f32x4 0 0 0 0))
        (local.set $a2 (v128.const f32x4 0 0 0 0))
        (local.set $a3 (v128.const f32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $rowDone
          (loop $columns
            (br_if $rowDone (i32.ge_u (local.get $j) (local.get $rowBytes)))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul
              (v128.load (i32.add (local.get $q) (local.get $j)))
              (v128.load (i32.add (local.get $v) (local.get $j))))))
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul
              (v128.load offset=16 (i32.add (local.get $q) (local.get $j)))
              (v128.load offset=16 (i32.add (local.get $v) (local.get $j))))))
            (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul
              (v128.load offset=32 (i32.add (local.get $q) (local.get $j)))
              (v128.load offset=32 (i32.add (local.get $v) (local.get $j))))))
            (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul
              (v128.load offset=48 (i32.add (local.get $q) (local.get $j)))
              (v128.load offset=48 (i32.add (local.get $v) (local.get $j))))))
            (local.set $j (i32.add (local.get $j) (i32.const 64)))
            (br $columns)))
        (local.set $a0 (f32x4.add (f32x4.add (local.get $a0) (local.get $a1))
                                  (f32x4.add (local.get $a2) (local.get $a3))))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $a0)) (f32x4.extract_lane 1 (local.get $a0)))
            (f32.add (f32x4.extract_lane 2 (local.get $a0)) (f32x4.extract_lane 3 (local.get $a0)))))
        (local.set $v (i32.add (local.get $v) (local.get $rowBytes)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))
)
