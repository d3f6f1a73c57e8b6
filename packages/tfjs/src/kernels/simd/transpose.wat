;; The outer/inner axis swap of the filter gradient's operands for the tfjs
;; wasm backend, in WebAssembly 128-bit SIMD (v128 loads, stores and
;; i8x16.shuffle only: Node 20 runs it).
;;
;; The module imports tfjs's own memory and works on tensors where tfjs keeps
;; them: every pointer is a byte offset into that heap. Compiled by
;; scripts/compile-wat.mjs (wabt) into transpose.generated.ts; the line
;; marked MEMORY is replaced there (plain or shared memory import).
(module
  (import "env" "memory" (memory 0)) ;; MEMORY

  ;; swap_outer_inner(src, dst, outer, middle, inner)
  ;;
  ;; dst[i, m, o] = src[o, m, i] for src [outer, middle, inner] (a 4-D
  ;; [b, h, w, c] transposed by [3, 1, 2, 0], middle = h·w). Values move as
  ;; bits. Blocks of up to 16 rows o of src (a multiple of 4): for each m,
  ;; each 4×4 tile of four rows by four inner values is transposed in
  ;; registers (two rounds of shuffles) and stored as a run of four o in dst;
  ;; the block's four tiles of one inner quartet fill one 64-byte line of each
  ;; of four dst rows, so every dst line is written whole while it is in cache
  ;; (tiles of four rows alone left a megabyte of half-written lines behind).
  ;; The remaining 0–3 inner values of a block's rows, and the remaining 0–3
  ;; rows, one value at a time.
  (func (export "swap_outer_inner")
    (param $src i32) (param $dst i32) (param $outer i32) (param $middle i32) (param $inner i32)
    (local $o i32) (local $oEnd i32) (local $q i32) (local $m i32) (local $i i32) (local $outerVec i32) (local $innerVec i32)
    (local $srcRowBytes i32) (local $dstRowBytes i32) (local $dstPlaneBytes i32)
    (local $s i32) (local $d i32) (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $outerVec (i32.and (local.get $outer) (i32.const -4)))
    (local.set $innerVec (i32.and (local.get $inner) (i32.const -4)))
    ;; Bytes from one o to the next in src, from one m to the next in dst, and from one i to the next in dst.
    (local.set $srcRowBytes (i32.shl (i32.mul (local.get $middle) (local.get $inner)) (i32.const 2)))
    (local.set $dstRowBytes (i32.shl (local.get $outer) (i32.const 2)))
    (local.set $dstPlaneBytes (i32.mul (local.get $middle) (local.get $dstRowBytes)))
    (local.set $o (i32.const 0))
    (block $doneBlocks (loop $blockLoop
      (br_if $doneBlocks (i32.ge_u (local.get $o) (local.get $outerVec)))
      (local.set $oEnd (i32.add (local.get $o) (i32.const 16)))
      (if (i32.gt_u (local.get $oEnd) (local.get $outerVec)) (then (local.set $oEnd (local.get $outerVec))))
      (local.set $m (i32.const 0))
      (block $doneMiddle (loop $middleLoop
        (br_if $doneMiddle (i32.ge_u (local.get $m) (local.get $middle)))
        (local.set $i (i32.const 0))
        (block $doneTiles (loop $tileLoop
          (br_if $doneTiles (i32.ge_u (local.get $i) (local.get $innerVec)))
          (local.set $q (local.get $o))
          (block $doneQuads (loop $quadLoop
            (br_if $doneQuads (i32.ge_u (local.get $q) (local.get $oEnd)))
            ;; src[q, m, i] and dst[i, m, q].
            (local.set $s (i32.add (local.get $src)
              (i32.add (i32.mul (local.get $q) (local.get $srcRowBytes))
                       (i32.shl (i32.add (i32.mul (local.get $m) (local.get $inner)) (local.get $i)) (i32.const 2)))))
            (local.set $d (i32.add (local.get $dst)
              (i32.add (i32.add (i32.mul (local.get $i) (local.get $dstPlaneBytes)) (i32.mul (local.get $m) (local.get $dstRowBytes)))
                       (i32.shl (local.get $q) (i32.const 2)))))
            (local.set $r0 (v128.load (local.get $s)))
            (local.set $r1 (v128.load (i32.add (local.get $s) (local.get $srcRowBytes))))
            (local.set $r2 (v128.load (i32.add (local.get $s) (i32.shl (local.get $srcRowBytes) (i32.const 1)))))
            (local.set $r3 (v128.load (i32.add (local.get $s) (i32.mul (local.get $srcRowBytes) (i32.const 3)))))
            ;; Interleave rows 0/1 and 2/3 by lane, then pair those halves: column k = (r0[k], r1[k], r2[k], r3[k]).
            (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
            (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
            (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
            (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
            (v128.store (local.get $d)
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
            (v128.store (i32.add (local.get $d) (local.get $dstPlaneBytes))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
            (v128.store (i32.add (local.get $d) (i32.shl (local.get $dstPlaneBytes) (i32.const 1)))
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
            (v128.store (i32.add (local.get $d) (i32.mul (local.get $dstPlaneBytes) (i32.const 3)))
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
            (local.set $q (i32.add (local.get $q) (i32.const 4)))
            (br $quadLoop)))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $tileLoop)))
        ;; The remaining inner values of the block's rows.
        (block $doneInnerTail (loop $innerTailLoop
          (br_if $doneInnerTail (i32.ge_u (local.get $i) (local.get $inner)))
          (local.set $q (local.get $o))
          (block $doneTailRows (loop $tailRowLoop
            (br_if $doneTailRows (i32.ge_u (local.get $q) (local.get $oEnd)))
            (local.set $s (i32.add (local.get $src)
              (i32.add (i32.mul (local.get $q) (local.get $srcRowBytes))
                       (i32.shl (i32.add (i32.mul (local.get $m) (local.get $inner)) (local.get $i)) (i32.const 2)))))
            (local.set $d (i32.add (local.get $dst)
              (i32.add (i32.add (i32.mul (local.get $i) (local.get $dstPlaneBytes)) (i32.mul (local.get $m) (local.get $dstRowBytes)))
                       (i32.shl (local.get $q) (i32.const 2)))))
            (i32.store (local.get $d) (i32.load (local.get $s)))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $tailRowLoop)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $innerTailLoop)))
        (local.set $m (i32.add (local.get $m) (i32.const 1)))
        (br $middleLoop)))
      (local.set $o (local.get $oEnd))
      (br $blockLoop)))
    ;; The remaining rows, one value at a time.
    (block $doneRows (loop $rowLoop
      (br_if $doneRows (i32.ge_u (local.get $o) (local.get $outer)))
      (local.set $s (i32.add (local.get $src) (i32.mul (local.get $o) (local.get $srcRowBytes))))
      (local.set $m (i32.const 0))
      (block $doneMiddleTail (loop $middleTailLoop
        (br_if $doneMiddleTail (i32.ge_u (local.get $m) (local.get $middle)))
        (local.set $d (i32.add (local.get $dst)
          (i32.add (i32.mul (local.get $m) (local.get $dstRowBytes)) (i32.shl (local.get $o) (i32.const 2)))))
        (local.set $i (i32.const 0))
        (block $doneValues (loop $valueLoop
          (br_if $doneValues (i32.ge_u (local.get $i) (local.get $inner)))
          (i32.store (local.get $d) (i32.load (local.get $s)))
          (local.set $s (i32.add (local.get $s) (i32.const 4)))
          (local.set $d (i32.add (local.get $d) (local.get $dstPlaneBytes)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $valueLoop)))
        (local.set $m (i32.add (local.get $m) (i32.const 1)))
        (br $middleTailLoop)))
      (local.set $o (i32.add (local.get $o) (i32.const 1)))
      (br $rowLoop)))
  )
)
