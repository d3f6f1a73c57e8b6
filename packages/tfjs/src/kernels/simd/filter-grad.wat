;; The filter gradient of a stride-1, dilation-1 2-D convolution with input
;; and output channel counts both multiples of 4, for the tfjs wasm backend,
;; in WebAssembly 128-bit SIMD (f32x4 mul/add only: no relaxed SIMD, so
;; Node 20 runs it):
;;
;;   dW[i, j, c, o] = Σ_{b, p, q} x[b, p + i − padTop, q + j − padLeft, c] · dy[b, p, q, o]
;;
;; (x outside its rows and columns is zero). It replaces the convolution
;; formulations of araboza's Conv2DBackpropFilter for these shapes, which
;; through XNNPACK transpose both operands and pack a whole dy as a
;; convolution kernel on every call.
;;
;; The module imports tfjs's own memory (the emscripten module's heap) and
;; works on tensors where tfjs keeps them: every pointer below is a byte
;; offset into that heap, every tensor float32, NHWC, densely packed.
;; Compiled by scripts/compile-wat.mjs (wabt) into filter-grad.generated.ts.
;; The line marked MEMORY is replaced there: a plain memory import for the
;; single-threaded build, a shared one (max 65536 pages, as emscripten
;; declares it) for the threaded build.
;;
;; Register tiling: a tile of 4 input × 8 output channels keeps 8 f32x4
;; accumulators, the two dy vectors of a position and one broadcast x value
;; in 11 of the 16 xmm registers V8 has on x64 (4 × 16 would need 16
;; accumulators alone and spill). Each position's 4 x values are broadcast
;; one at a time and multiply both dy vectors. A 4 × 4 tile takes the last 4
;; output channels when co is not a multiple of 8.
;;
;; Blocking and accuracy: positions are taken in blocks of whole output rows
;; of one image, at most BLOCK_TERMS positions per block (one row when a row
;; is longer). A block's rows and the taps' x rows stay in L1/L2 while all
;; taps and tiles pass over them; each tile sums a block in float32 lanes,
;; then adds those partial sums to float64 totals (the `acc` scratch), which
;; are rounded to float32 once at the end. So each float32 sum has at most
;; max(BLOCK_TERMS, outCols) terms whatever the batch and image size, and the
;; many block sums add without float32 growth of the error.
(module
  (import "env" "memory" (memory 0)) ;; MEMORY

  ;; Adds the four float32 lanes of `v` to the float64 values at acc[0..3].
  (func $flush (param $acc i32) (param $v v128)
    (v128.store offset=0 (local.get $acc)
      (f64x2.add (v128.load offset=0 (local.get $acc)) (f64x2.promote_low_f32x4 (local.get $v))))
    (v128.store offset=16 (local.get $acc)
      (f64x2.add (v128.load offset=16 (local.get $acc))
        (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))))

  ;; $tile_4x8 / $tile_4x4: one tap's sums for 4 input channels × 8 (or 4)
  ;; output channels over nRows × nCols positions (nRows ≥ 0, nCols ≥ 1),
  ;; flushed into the float64 totals at ap (rows of the 4 input channels
  ;; apRow bytes apart). xp / dp: the first position's x and dy channels;
  ;; xRow / dRow: bytes from one row to the next; xs / ds: from one column
  ;; to the next.
  (func $tile_4x8
    (param $xp i32) (param $dp i32) (param $nRows i32) (param $nCols i32)
    (param $xRow i32) (param $dRow i32) (param $xs i32) (param $ds i32) (param $ap i32) (param $apRow i32)
    (local $x i32) (local $d i32) (local $dEnd i32) (local $s v128)
    (local $d0 v128) (local $d1 v128)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128) (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (block $doneRows (loop $rowLoop
      (br_if $doneRows (i32.le_s (local.get $nRows) (i32.const 0)))
      (local.set $x (local.get $xp))
      (local.set $d (local.get $dp))
      (local.set $dEnd (i32.add (local.get $dp) (i32.mul (local.get $nCols) (local.get $ds))))
      (loop $colLoop
        (local.set $d0 (v128.load offset=0 (local.get $d)))
        (local.set $d1 (v128.load offset=16 (local.get $d)))
        (local.set $s (v128.load32_splat offset=0 (local.get $x)))
        (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (local.get $d0))))
        (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $s) (local.get $d1))))
        (local.set $s (v128.load32_splat offset=4 (local.get $x)))
        (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $s) (local.get $d0))))
        (local.set $a11 (f32x4.add (local.get $a11) (f32x4.mul (local.get $s) (local.get $d1))))
        (local.set $s (v128.load32_splat offset=8 (local.get $x)))
        (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (local.get $s) (local.get $d0))))
        (local.set $a21 (f32x4.add (local.get $a21) (f32x4.mul (local.get $s) (local.get $d1))))
        (local.set $s (v128.load32_splat offset=12 (local.get $x)))
        (local.set $a30 (f32x4.add (local.get $a30) (f32x4.mul (local.get $s) (local.get $d0))))
        (local.set $a31 (f32x4.add (local.get $a31) (f32x4.mul (local.get $s) (local.get $d1))))
        (local.set $x (i32.add (local.get $x) (local.get $xs)))
        (local.set $d (i32.add (local.get $d) (local.get $ds)))
        (br_if $colLoop (i32.lt_u (local.get $d) (local.get $dEnd))))
      (local.set $xp (i32.add (local.get $xp) (local.get $xRow)))
      (local.set $dp (i32.add (local.get $dp) (local.get $dRow)))
      (local.set $nRows (i32.sub (local.get $nRows) (i32.const 1)))
      (br $rowLoop)))
    ;; Flush: each f32x4 of partial sums added, as two f64x2, into the float64 totals.
    ;; ci lane 0: acc[.., c + 0, o .. o + 7]
    (call $flush (i32.add (local.get $ap) (i32.const 0)) (local.get $a00))
    (call $flush (i32.add (local.get $ap) (i32.const 32)) (local.get $a01))
    (local.set $ap (i32.add (local.get $ap) (local.get $apRow)))
    ;; ci lane 1: acc[.., c + 1, o .. o + 7]
    (call $flush (i32.add (local.get $ap) (i32.const 0)) (local.get $a10))
    (call $flush (i32.add (local.get $ap) (i32.const 32)) (local.get $a11))
    (local.set $ap (i32.add (local.get $ap) (local.get $apRow)))
    ;; ci lane 2: acc[.., c + 2, o .. o + 7]
    (call $flush (i32.add (local.get $ap) (i32.const 0)) (local.get $a20))
    (call $flush (i32.add (local.get $ap) (i32.const 32)) (local.get $a21))
    (local.set $ap (i32.add (local.get $ap) (local.get $apRow)))
    ;; ci lane 3: acc[.., c + 3, o .. o + 7]
    (call $flush (i32.add (local.get $ap) (i32.const 0)) (local.get $a30))
    (call $flush (i32.add (local.get $ap) (i32.const 32)) (local.get $a31))
  )

  (func $tile_4x4
    (param $xp i32) (param $dp i32) (param $nRows i32) (param $nCols i32)
    (param $xRow i32) (param $dRow i32) (param $xs i32) (param $ds i32) (param $ap i32) (param $apRow i32)
    (local $x i32) (local $d i32) (local $dEnd i32) (local $s v128)
    (local $d0 v128)
    (local $a00 v128) (local $a10 v128) (local $a20 v128) (local $a30 v128)
    (block $doneRows (loop $rowLoop
      (br_if $doneRows (i32.le_s (local.get $nRows) (i32.const 0)))
      (local.set $x (local.get $xp))
      (local.set $d (local.get $dp))
      (local.set $dEnd (i32.add (local.get $dp) (i32.mul (local.get $nCols) (local.get $ds))))
      (loop $colLoop
        (local.set $d0 (v128.load offset=0 (local.get $d)))
        (local.set $s (v128.load32_splat offset=0 (local.get $x)))
        (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (local.get $d0))))
        (local.set $s (v128.load32_splat offset=4 (local.get $x)))
        (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $s) (local.get $d0))))
        (local.set $s (v128.load32_splat offset=8 (local.get $x)))
        (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (local.get $s) (local.get $d0))))
        (local.set $s (v128.load32_splat offset=12 (local.get $x)))
        (local.set $a30 (f32x4.add (local.get $a30) (f32x4.mul (local.get $s) (local.get $d0))))
        (local.set $x (i32.add (local.get $x) (local.get $xs)))
        (local.set $d (i32.add (local.get $d) (local.get $ds)))
        (br_if $colLoop (i32.lt_u (local.get $d) (local.get $dEnd))))
      (local.set $xp (i32.add (local.get $xp) (local.get $xRow)))
      (local.set $dp (i32.add (local.get $dp) (local.get $dRow)))
      (local.set $nRows (i32.sub (local.get $nRows) (i32.const 1)))
      (br $rowLoop)))
    ;; Flush: each f32x4 of partial sums added, as two f64x2, into the float64 totals.
    ;; ci lane 0: acc[.., c + 0, o .. o + 3]
    (call $flush (i32.add (local.get $ap) (i32.const 0)) (local.get $a00))
    (local.set $ap (i32.add (local.get $ap) (local.get $apRow)))
    ;; ci lane 1: acc[.., c + 1, o .. o + 3]
    (call $flush (i32.add (local.get $ap) (i32.const 0)) (local.get $a10))
    (local.set $ap (i32.add (local.get $ap) (local.get $apRow)))
    ;; ci lane 2: acc[.., c + 2, o .. o + 3]
    (call $flush (i32.add (local.get $ap) (i32.const 0)) (local.get $a20))
    (local.set $ap (i32.add (local.get $ap) (local.get $apRow)))
    ;; ci lane 3: acc[.., c + 3, o .. o + 3]
    (call $flush (i32.add (local.get $ap) (i32.const 0)) (local.get $a30))
  )

  ;; filter_grad: dW (float32 [kh, kw, ci, co]) into `out`, with `acc` a
  ;; float64 scratch of kh·kw·ci·co values (overwritten). ci and co are
  ;; multiples of 4; padTop / padLeft are the forward's zeros before the
  ;; first row / column (any, negative included).
  (func $filter_grad (export "filter_grad")
    (param $x i32) (param $dy i32) (param $out i32) (param $acc i32)
    (param $batch i32) (param $rows i32) (param $cols i32) (param $ci i32)
    (param $outRows i32) (param $outCols i32) (param $co i32)
    (param $kh i32) (param $kw i32) (param $padTop i32) (param $padLeft i32)
    (local $xs i32) (local $ds i32) (local $xRow i32) (local $dRow i32) (local $apRow i32)
    (local $block i32) (local $b i32) (local $p0 i32) (local $p1 i32) (local $i i32) (local $j i32)
    (local $pStart i32) (local $pEnd i32) (local $qStart i32) (local $qEnd i32)
    (local $c i32) (local $o i32) (local $xBase i32) (local $dBase i32) (local $ap i32)
    (local $n i32) (local $e i32)
    (local.set $xs (i32.shl (local.get $ci) (i32.const 2)))
    (local.set $ds (i32.shl (local.get $co) (i32.const 2)))
    (local.set $xRow (i32.mul (local.get $cols) (local.get $xs)))
    (local.set $dRow (i32.mul (local.get $outCols) (local.get $ds)))
    (local.set $apRow (i32.shl (local.get $co) (i32.const 3)))
    (local.set $n (i32.mul (i32.mul (local.get $kh) (local.get $kw)) (i32.mul (local.get $ci) (local.get $co))))
    (memory.fill (local.get $acc) (i32.const 0) (i32.shl (local.get $n) (i32.const 3)))
    ;; BLOCK_TERMS = 256 positions per block: whole rows, at least one.
    (local.set $block (i32.div_u (i32.const 256) (local.get $outCols)))
    (if (i32.lt_s (local.get $block) (i32.const 1)) (then (local.set $block (i32.const 1))))
    (local.set $b (i32.const 0))
    (block $doneBatch (loop $batchLoop
      (br_if $doneBatch (i32.ge_s (local.get $b) (local.get $batch)))
      (local.set $p0 (i32.const 0))
      (block $doneBlocks (loop $blockLoop
        (br_if $doneBlocks (i32.ge_s (local.get $p0) (local.get $outRows)))
        (local.set $p1 (i32.add (local.get $p0) (local.get $block)))
        (if (i32.gt_s (local.get $p1) (local.get $outRows)) (then (local.set $p1 (local.get $outRows))))
        (local.set $i (i32.const 0))
        (block $doneI (loop $iLoop
          (br_if $doneI (i32.ge_s (local.get $i) (local.get $kh)))
          ;; Rows p of the block whose x row p + i − padTop is inside x.
          (local.set $pStart (i32.sub (local.get $padTop) (local.get $i)))
          (if (i32.lt_s (local.get $pStart) (local.get $p0)) (then (local.set $pStart (local.get $p0))))
          (local.set $pEnd (i32.sub (i32.add (local.get $rows) (local.get $padTop)) (local.get $i)))
          (if (i32.gt_s (local.get $pEnd) (local.get $p1)) (then (local.set $pEnd (local.get $p1))))
          (if (i32.lt_s (local.get $pStart) (local.get $pEnd))
            (then
              (local.set $j (i32.const 0))
              (block $doneJ (loop $jLoop
                (br_if $doneJ (i32.ge_s (local.get $j) (local.get $kw)))
                ;; Columns q whose x column q + j − padLeft is inside x.
                (local.set $qStart (i32.sub (local.get $padLeft) (local.get $j)))
                (if (i32.lt_s (local.get $qStart) (i32.const 0)) (then (local.set $qStart (i32.const 0))))
                (local.set $qEnd (i32.sub (i32.add (local.get $cols) (local.get $padLeft)) (local.get $j)))
                (if (i32.gt_s (local.get $qEnd) (local.get $outCols)) (then (local.set $qEnd (local.get $outCols))))
                (if (i32.lt_s (local.get $qStart) (local.get $qEnd))
                  (then
                    ;; xBase = &x[b, pStart + i − padTop, qStart + j − padLeft, 0]
                    (local.set $xBase (i32.add (local.get $x) (i32.mul (local.get $xs)
                      (i32.add
                        (i32.mul (i32.add (i32.mul (local.get $b) (local.get $rows)) (i32.sub (i32.add (local.get $pStart) (local.get $i)) (local.get $padTop))) (local.get $cols))
                        (i32.sub (i32.add (local.get $qStart) (local.get $j)) (local.get $padLeft))))))
                    ;; dBase = &dy[b, pStart, qStart, 0]
                    (local.set $dBase (i32.add (local.get $dy) (i32.mul (local.get $ds)
                      (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $outRows)) (local.get $pStart)) (local.get $outCols)) (local.get $qStart)))))
                    (local.set $c (i32.const 0))
                    (block $doneC (loop $cLoop
                      (br_if $doneC (i32.ge_s (local.get $c) (local.get $ci)))
                      (local.set $o (i32.const 0))
                      (block $done8 (loop $oLoop
                        (br_if $done8 (i32.gt_s (i32.add (local.get $o) (i32.const 8)) (local.get $co)))
                        ;; ap = &acc[i, j, c, o] (float64)
                        (local.set $ap (i32.add (local.get $acc) (i32.shl
                          (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $i) (local.get $kw)) (local.get $j)) (local.get $ci)) (local.get $c)) (local.get $co)) (local.get $o))
                          (i32.const 3))))
                        (call $tile_4x8
                          (i32.add (local.get $xBase) (i32.shl (local.get $c) (i32.const 2)))
                          (i32.add (local.get $dBase) (i32.shl (local.get $o) (i32.const 2)))
                          (i32.sub (local.get $pEnd) (local.get $pStart)) (i32.sub (local.get $qEnd) (local.get $qStart))
                          (local.get $xRow) (local.get $dRow) (local.get $xs) (local.get $ds) (local.get $ap) (local.get $apRow))
                        (local.set $o (i32.add (local.get $o) (i32.const 8)))
                        (br $oLoop)))
                      (if (i32.lt_s (local.get $o) (local.get $co))
                        (then
                          (local.set $ap (i32.add (local.get $acc) (i32.shl
                            (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $i) (local.get $kw)) (local.get $j)) (local.get $ci)) (local.get $c)) (local.get $co)) (local.get $o))
                            (i32.const 3))))
                          (call $tile_4x4
                            (i32.add (local.get $xBase) (i32.shl (local.get $c) (i32.const 2)))
                            (i32.add (local.get $dBase) (i32.shl (local.get $o) (i32.const 2)))
                            (i32.sub (local.get $pEnd) (local.get $pStart)) (i32.sub (local.get $qEnd) (local.get $qStart))
                            (local.get $xRow) (local.get $dRow) (local.get $xs) (local.get $ds) (local.get $ap) (local.get $apRow))))
                      (local.set $c (i32.add (local.get $c) (i32.const 4)))
                      (br $cLoop)))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $jLoop)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $iLoop)))
        (local.set $p0 (local.get $p1))
        (br $blockLoop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $batchLoop)))
    ;; out = the float64 totals rounded to float32.
    (local.set $e (i32.const 0))
    (block $doneOut (loop $outLoop
      (br_if $doneOut (i32.ge_s (local.get $e) (local.get $n)))
      (f32.store (i32.add (local.get $out) (i32.shl (local.get $e) (i32.const 2)))
        (f32.demote_f64 (f64.load (i32.add (local.get $acc) (i32.shl (local.get $e) (i32.const 3))))))
      (local.set $e (i32.add (local.get $e) (i32.const 1)))
      (br $outLoop)))
  )
)
