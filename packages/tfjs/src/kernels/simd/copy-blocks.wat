;; Strided block copies for the tfjs wasm backend's Concat and SplitV, in
;; WebAssembly 128-bit SIMD (v128 loads and stores only: Node 20 runs it).
;;
;; The module imports tfjs's own memory and works on tensors where tfjs keeps
;; them: every pointer is a byte offset into that heap. Compiled by
;; scripts/compile-wat.mjs (wabt) into copy-blocks.generated.ts; the line
;; marked MEMORY is replaced there (plain or shared memory import).
(module
  (import "env" "memory" (memory 0)) ;; MEMORY

  ;; copy_blocks(dst, dstStride, src, srcStride, outer, block)
  ;;
  ;; Copies `outer` blocks of `block` 4-byte values: block o of src (at byte
  ;; src + 4·o·srcStride) to block o of dst (at byte dst + 4·o·dstStride).
  ;; Strides and block are counted in values. A concatenation writes each
  ;; input into its columns of the output (dstStride the output's row, srcStride
  ;; = block); a split reads each part out of the input's rows (srcStride the
  ;; input's row, dstStride = block). Values move as bits (i32 and v128, never
  ;; f32 arithmetic), so NaN payloads and −0 come through unchanged.
  ;;
  ;; Four values at a time (unaligned v128), the remaining 0–3 one at a time;
  ;; a long block (a concatenation on an outer axis) as one bulk memory.copy,
  ;; handing the engine's own memmove a run long enough to repay the call.
  (func (export "copy_blocks")
    (param $dst i32) (param $dstStride i32) (param $src i32) (param $srcStride i32)
    (param $outer i32) (param $block i32)
    (local $o i32) (local $k i32) (local $blockBytes i32) (local $vecBytes i32)
    (local $dstStep i32) (local $srcStep i32)
    (local.set $blockBytes (i32.shl (local.get $block) (i32.const 2)))
    (local.set $vecBytes (i32.and (local.get $blockBytes) (i32.const -16)))
    (local.set $dstStep (i32.shl (local.get $dstStride) (i32.const 2)))
    (local.set $srcStep (i32.shl (local.get $srcStride) (i32.const 2)))
    (local.set $o (i32.const 0))
    (if (i32.ge_u (local.get $blockBytes) (i32.const 1024))
      (then
        (block $doneBulk (loop $bulkLoop
          (br_if $doneBulk (i32.ge_s (local.get $o) (local.get $outer)))
          (memory.copy (local.get $dst) (local.get $src) (local.get $blockBytes))
          (local.set $dst (i32.add (local.get $dst) (local.get $dstStep)))
          (local.set $src (i32.add (local.get $src) (local.get $srcStep)))
          (local.set $o (i32.add (local.get $o) (i32.const 1)))
          (br $bulkLoop)))
        (return)))
    (block $doneRows (loop $rowLoop
      (br_if $doneRows (i32.ge_s (local.get $o) (local.get $outer)))
      (local.set $k (i32.const 0))
      (block $doneVec (loop $vecLoop
        (br_if $doneVec (i32.ge_u (local.get $k) (local.get $vecBytes)))
        (v128.store (i32.add (local.get $dst) (local.get $k))
          (v128.load (i32.add (local.get $src) (local.get $k))))
        (local.set $k (i32.add (local.get $k) (i32.const 16)))
        (br $vecLoop)))
      (block $doneTail (loop $tailLoop
        (br_if $doneTail (i32.ge_u (local.get $k) (local.get $blockBytes)))
        (i32.store (i32.add (local.get $dst) (local.get $k))
          (i32.load (i32.add (local.get $src) (local.get $k))))
        (local.set $k (i32.add (local.get $k) (i32.const 4)))
        (br $tailLoop)))
      (local.set $dst (i32.add (local.get $dst) (local.get $dstStep)))
      (local.set $src (i32.add (local.get $src) (local.get $srcStep)))
      (local.set $o (i32.add (local.get $o) (i32.const 1)))
      (br $rowLoop)))
  )
)
