;; One-channel convolution kernels for the tfjs wasm backend, in WebAssembly
;; 128-bit SIMD (f32x4 mul/add only: no relaxed SIMD, so Node 20 runs it).
;;
;; The module imports tfjs's own memory (the emscripten module's heap) and
;; works on tensors where tfjs keeps them: every pointer below is a byte
;; offset into that heap, every tensor float32, NHWC, densely packed.
;; Compiled by scripts/compile-wat.mjs (wabt) into one-channel-conv.generated.ts.
;; The line marked MEMORY is replaced there: a plain memory import for the
;; single-threaded build, a shared one (max 65536 pages, as emscripten
;; declares it) for the threaded build.
(module
  (import "env" "memory" (memory 0)) ;; MEMORY

  ;; filter_grad(plane, other, out, batch, rows, cols, outRows, outCols, channels,
  ;;             kh, kw, rowBase, rowStep, colBase, colStep)
  ;;
  ;; The filter gradient of a stride-1 convolution with one input or one
  ;; output channel, as a [kh·kw, channels] matrix:
  ;;
  ;;   out[t = i·kw + j, c] = Σ_{b, p, q} plane[b, p + rowShift(i), q + colShift(j)] · other[b, p, q, c]
  ;;
  ;; with rowShift(i) = rowBase + i·rowStep, colShift(j) = colBase + j·colStep
  ;; and plane values outside [0, rows) × [0, cols) read as zero. `plane` is
  ;; the one-channel operand ([batch, rows, cols]); `other` is [batch,
  ;; outRows, outCols, channels]. For each output row the taps' channel sums
  ;; are kept in locals over the row's columns (the other row, outCols ·
  ;; channels floats, stays in L1 for all kh·kw taps) and added to `out` once
  ;; per row. The columns a tap reaches inside the plane are one contiguous
  ;; range [qStart, qEnd), so nothing is tested per column.
  (func $filter_grad (export "filter_grad")
    (param $plane i32) (param $other i32) (param $out i32)
    (param $batch i32) (param $rows i32) (param $cols i32)
    (param $outRows i32) (param $outCols i32) (param $channels i32)
    (param $kh i32) (param $kw i32)
    (param $rowBase i32) (param $rowStep i32) (param $colBase i32) (param $colStep i32)
    (local $b i32) (local $p i32) (local $i i32) (local $j i32) (local $c i32)
    (local $r i32) (local $cs i32) (local $qStart i32) (local $qEnd i32)
    (local $otherRow i32) (local $planeRow i32) (local $outTap i32)
    (local $pp i32) (local $ppEnd i32) (local $op i32) (local $stride i32)
    (local $v v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $s f32)
    ;; Byte distance between one column's channels and the next one's in `other`.
    (local.set $stride (i32.shl (local.get $channels) (i32.const 2)))
    ;; out = 0 (kh · kw · channels floats).
    (memory.fill (local.get $out) (i32.const 0)
      (i32.shl (i32.mul (i32.mul (local.get $kh) (local.get $kw)) (local.get $channels)) (i32.const 2)))
    (local.set $b (i32.const 0))
    (block $doneBatch (loop $batchLoop
      (br_if $doneBatch (i32.ge_s (local.get $b) (local.get $batch)))
      (local.set $p (i32.const 0))
      (block $doneRows (loop $rowLoop
        (br_if $doneRows (i32.ge_s (local.get $p) (local.get $outRows)))
        ;; otherRow = &other[b, p, 0, 0]
        (local.set $otherRow (i32.add (local.get $other)
          (i32.mul (i32.mul (i32.add (i32.mul (local.get $b) (local.get $outRows)) (local.get $p)) (local.get $outCols)) (local.get $stride))))
        (local.set $i (i32.const 0))
        (block $doneI (loop $iLoop
          (br_if $doneI (i32.ge_s (local.get $i) (local.get $kh)))
          ;; The plane row this tap row reads; rows outside the plane add nothing.
          (local.set $r (i32.add (local.get $p) (i32.add (local.get $rowBase) (i32.mul (local.get $i) (local.get $rowStep)))))
          (if (i32.and (i32.ge_s (local.get $r) (i32.const 0)) (i32.lt_s (local.get $r) (local.get $rows)))
            (then
              ;; planeRow = &plane[b, r, 0]
              (local.set $planeRow (i32.add (local.get $plane)
                (i32.shl (i32.mul (i32.add (i32.mul (local.get $b) (local.get $rows)) (local.get $r)) (local.get $cols)) (i32.const 2))))
              (local.set $j (i32.const 0))
              (block $doneJ (loop $jLoop
                (br_if $doneJ (i32.ge_s (local.get $j) (local.get $kw)))
                ;; Columns q with 0 <= q + cs < cols, within [0, outCols).
                (local.set $cs (i32.add (local.get $colBase) (i32.mul (local.get $j) (local.get $colStep))))
                (local.set $qStart (i32.sub (i32.const 0) (local.get $cs)))
                (if (i32.lt_s (local.get $qStart) (i32.const 0)) (then (local.set $qStart (i32.const 0))))
                (if (i32.gt_s (local.get $qStart) (local.get $outCols)) (then (local.set $qStart (local.get $outCols))))
                (local.set $qEnd (i32.sub (local.get $cols) (local.get $cs)))
                (if (i32.gt_s (local.get $qEnd) (local.get $outCols)) (then (local.set $qEnd (local.get $outCols))))
                (if (i32.lt_s (local.get $qEnd) (local.get $qStart)) (then (local.set $qEnd (local.get $qStart))))
                ;; outTap = &out[i · kw + j, 0]
                (local.set $outTap (i32.add (local.get $out)
                  (i32.mul (i32.add (i32.mul (local.get $i) (local.get $kw)) (local.get $j)) (local.get $stride))))
                ;; The tap's plane values run from &planeRow[qStart + cs] to &planeRow[qEnd + cs].
                (local.set $c (i32.const 0))
                ;; Blocks of 16 channels: four f32x4 accumulators.
                (block $done16 (loop $c16
                  (br_if $done16 (i32.gt_s (i32.add (local.get $c) (i32.const 16)) (local.get $channels)))
                  (local.set $a0 (v128.const i32x4 0 0 0 0))
                  (local.set $a1 (v128.const i32x4 0 0 0 0))
                  (local.set $a2 (v128.const i32x4 0 0 0 0))
                  (local.set $a3 (v128.const i32x4 0 0 0 0))
                  (local.set $pp (i32.add (local.get $planeRow) (i32.shl (i32.add (local.get $qStart) (local.get $cs)) (i32.const 2))))
                  (local.set $ppEnd (i32.add (local.get $planeRow) (i32.shl (i32.add (local.get $qEnd) (local.get $cs)) (i32.const 2))))
                  (local.set $op (i32.add (i32.add (local.get $otherRow) (i32.mul (local.get $qStart) (local.get $stride))) (i32.shl (local.get $c) (i32.const 2))))
                  (block $doneQ (loop $qLoop
                    (br_if $doneQ (i32.ge_u (local.get $pp) (local.get $ppEnd)))
                    (local.set $v (f32x4.splat (f32.load (local.get $pp))))
                    (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $v) (v128.load offset=0 (local.get $op)))))
                    (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $v) (v128.load offset=16 (local.get $op)))))
                    (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $v) (v128.load offset=32 (local.get $op)))))
                    (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $v) (v128.load offset=48 (local.get $op)))))
                    (local.set $pp (i32.add (local.get $pp) (i32.const 4)))
                    (local.set $op (i32.add (local.get $op) (local.get $stride)))
                    (br $qLoop)))
                  ;; out[t, c .. c + 15] += the row's sums.
                  (local.set $op (i32.add (local.get $outTap) (i32.shl (local.get $c) (i32.const 2))))
                  (v128.store offset=0 (local.get $op) (f32x4.add (v128.load offset=0 (local.get $op)) (local.get $a0)))
                  (v128.store offset=16 (local.get $op) (f32x4.add (v128.load offset=16 (local.get $op)) (local.get $a1)))
                  (v128.store offset=32 (local.get $op) (f32x4.add (v128.load offset=32 (local.get $op)) (local.get $a2)))
                  (v128.store offset=48 (local.get $op) (f32x4.add (v128.load offset=48 (local.get $op)) (local.get $a3)))
                  (local.set $c (i32.add (local.get $c) (i32.const 16)))
                  (br $c16)))
                ;; Blocks of 4 channels: one accumulator.
                (block $done4 (loop $c4
                  (br_if $done4 (i32.gt_s (i32.add (local.get $c) (i32.const 4)) (local.get $channels)))
                  (local.set $a0 (v128.const i32x4 0 0 0 0))
                  (local.set $pp (i32.add (local.get $planeRow) (i32.shl (i32.add (local.get $qStart) (local.get $cs)) (i32.const 2))))
                  (local.set $ppEnd (i32.add (local.get $planeRow) (i32.shl (i32.add (local.get $qEnd) (local.get $cs)) (i32.const 2))))
                  (local.set $op (i32.add (i32.add (local.get $otherRow) (i32.mul (local.get $qStart) (local.get $stride))) (i32.shl (local.get $c) (i32.const 2))))
                  (block $doneQ4 (loop $qLoop4
                    (br_if $doneQ4 (i32.ge_u (local.get $pp) (local.get $ppEnd)))
                    (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (f32x4.splat (f32.load (local.get $pp))) (v128.load (local.get $op)))))
                    (local.set $pp (i32.add (local.get $pp) (i32.const 4)))
                    (local.set $op (i32.add (local.get $op) (local.get $stride)))
                    (br $qLoop4)))
                  (local.set $op (i32.add (local.get $outTap) (i32.shl (local.get $c) (i32.const 2))))
                  (v128.store (local.get $op) (f32x4.add (v128.load (local.get $op)) (local.get $a0)))
                  (local.set $c (i32.add (local.get $c) (i32.const 4)))
                  (br $c4)))
                ;; The last channels one at a time (channels not a multiple of 4).
                (block $done1 (loop $c1
                  (br_if $done1 (i32.ge_s (local.get $c) (local.get $channels)))
                  (local.set $s (f32.const 0))
                  (local.set $pp (i32.add (local.get $planeRow) (i32.shl (i32.add (local.get $qStart) (local.get $cs)) (i32.const 2))))
                  (local.set $ppEnd (i32.add (local.get $planeRow) (i32.shl (i32.add (local.get $qEnd) (local.get $cs)) (i32.const 2))))
                  (local.set $op (i32.add (i32.add (local.get $otherRow) (i32.mul (local.get $qStart) (local.get $stride))) (i32.shl (local.get $c) (i32.const 2))))
                  (block $doneQ1 (loop $qLoop1
                    (br_if $doneQ1 (i32.ge_u (local.get $pp) (local.get $ppEnd)))
                    (local.set $s (f32.add (local.get $s) (f32.mul (f32.load (local.get $pp)) (f32.load (local.get $op)))))
                    (local.set $pp (i32.add (local.get $pp) (i32.const 4)))
                    (local.set $op (i32.add (local.get $op) (local.get $stride)))
                    (br $qLoop1)))
                  (local.set $op (i32.add (local.get $outTap) (i32.shl (local.get $c) (i32.const 2))))
                  (f32.store (local.get $op) (f32.add (f32.load (local.get $op)) (local.get $s)))
                  (local.set $c (i32.add (local.get $c) (i32.const 1)))
                  (br $c1)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $jLoop)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $iLoop)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $rowLoop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $batchLoop)))
  )

  ;; The two forward convolutions below share this signature:
  ;;   (x, w, out, batch, rows, cols, outRows, outCols, channels, kh, kw, rowBase, colBase, dh, dw)
  ;; for a stride-1 convolution of x ([batch, rows, cols, ·]) with the kernel
  ;; w ([kh, kw, ·, ·]) into out ([batch, outRows, outCols, ·]): output (p, q)
  ;; of tap (i, j) reads x[b, p + rowBase + i·dh, q + colBase + j·dw], zero
  ;; outside x (rowBase, colBase: minus the padding before the first row / column).

  ;; conv_one_to_many: one input channel, `channels` output channels:
  ;;
  ;;   out[b, p, q, c] = Σ_{i, j} x[b, p + rowBase + i·dh, q + colBase + j·dw] · w[i, j, 0, c]
  ;;
  ;; Per output row (outCols · channels floats, in L1): zeroed, then for each
  ;; tap and block of channels the tap's weights sit in v128 locals while the
  ;; tap's contiguous valid column range adds x · w into the row.
  (func $conv_one_to_many (export "conv_one_to_many")
    (param $x i32) (param $w i32) (param $out i32)
    (param $batch i32) (param $rows i32) (param $cols i32)
    (param $outRows i32) (param $outCols i32) (param $channels i32)
    (param $kh i32) (param $kw i32)
    (param $rowBase i32) (param $colBase i32) (param $dh i32) (param $dw i32)
    (local $b i32) (local $p i32) (local $i i32) (local $j i32) (local $c i32)
    (local $r i32) (local $cs i32) (local $qStart i32) (local $qEnd i32)
    (local $outRow i32) (local $xRow i32) (local $wTap i32)
    (local $pp i32) (local $ppEnd i32) (local $op i32) (local $stride i32)
    (local $v v128) (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128)
    (local $s f32)
    (local.set $stride (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $b (i32.const 0))
    (block $doneBatch (loop $batchLoop
      (br_if $doneBatch (i32.ge_s (local.get $b) (local.get $batch)))
      (local.set $p (i32.const 0))
      (block $doneRows (loop $rowLoop
        (br_if $doneRows (i32.ge_s (local.get $p) (local.get $outRows)))
        ;; outRow = &out[b, p, 0, 0], zeroed.
        (local.set $outRow (i32.add (local.get $out)
          (i32.mul (i32.mul (i32.add (i32.mul (local.get $b) (local.get $outRows)) (local.get $p)) (local.get $outCols)) (local.get $stride))))
        (memory.fill (local.get $outRow) (i32.const 0) (i32.mul (local.get $outCols) (local.get $stride)))
        (local.set $i (i32.const 0))
        (block $doneI (loop $iLoop
          (br_if $doneI (i32.ge_s (local.get $i) (local.get $kh)))
          (local.set $r (i32.add (local.get $p) (i32.add (local.get $rowBase) (i32.mul (local.get $i) (local.get $dh)))))
          (if (i32.and (i32.ge_s (local.get $r) (i32.const 0)) (i32.lt_s (local.get $r) (local.get $rows)))
            (then
              ;; xRow = &x[b, r, 0]
              (local.set $xRow (i32.add (local.get $x)
                (i32.shl (i32.mul (i32.add (i32.mul (local.get $b) (local.get $rows)) (local.get $r)) (local.get $cols)) (i32.const 2))))
              (local.set $j (i32.const 0))
              (block $doneJ (loop $jLoop
                (br_if $doneJ (i32.ge_s (local.get $j) (local.get $kw)))
                ;; Columns q with 0 <= q + cs < cols, within [0, outCols).
                (local.set $cs (i32.add (local.get $colBase) (i32.mul (local.get $j) (local.get $dw))))
                (local.set $qStart (i32.sub (i32.const 0) (local.get $cs)))
                (if (i32.lt_s (local.get $qStart) (i32.const 0)) (then (local.set $qStart (i32.const 0))))
                (if (i32.gt_s (local.get $qStart) (local.get $outCols)) (then (local.set $qStart (local.get $outCols))))
                (local.set $qEnd (i32.sub (local.get $cols) (local.get $cs)))
                (if (i32.gt_s (local.get $qEnd) (local.get $outCols)) (then (local.set $qEnd (local.get $outCols))))
                (if (i32.lt_s (local.get $qEnd) (local.get $qStart)) (then (local.set $qEnd (local.get $qStart))))
                ;; wTap = &w[i, j, 0, 0]
                (local.set $wTap (i32.add (local.get $w)
                  (i32.mul (i32.add (i32.mul (local.get $i) (local.get $kw)) (local.get $j)) (local.get $stride))))
                (local.set $c (i32.const 0))
                ;; Blocks of 16 channels: the tap's weights in four v128 locals.
                (block $done16 (loop $c16
                  (br_if $done16 (i32.gt_s (i32.add (local.get $c) (i32.const 16)) (local.get $channels)))
                  (local.set $op (i32.add (local.get $wTap) (i32.shl (local.get $c) (i32.const 2))))
                  (local.set $w0 (v128.load offset=0 (local.get $op)))
                  (local.set $w1 (v128.load offset=16 (local.get $op)))
                  (local.set $w2 (v128.load offset=32 (local.get $op)))
                  (local.set $w3 (v128.load offset=48 (local.get $op)))
                  (local.set $pp (i32.add (local.get $xRow) (i32.shl (i32.add (local.get $qStart) (local.get $cs)) (i32.const 2))))
                  (local.set $ppEnd (i32.add (local.get $xRow) (i32.shl (i32.add (local.get $qEnd) (local.get $cs)) (i32.const 2))))
                  (local.set $op (i32.add (i32.add (local.get $outRow) (i32.mul (local.get $qStart) (local.get $stride))) (i32.shl (local.get $c) (i32.const 2))))
                  (block $doneQ (loop $qLoop
                    (br_if $doneQ (i32.ge_u (local.get $pp) (local.get $ppEnd)))
                    (local.set $v (f32x4.splat (f32.load (local.get $pp))))
                    (v128.store offset=0 (local.get $op) (f32x4.add (v128.load offset=0 (local.get $op)) (f32x4.mul (local.get $v) (local.get $w0))))
                    (v128.store offset=16 (local.get $op) (f32x4.add (v128.load offset=16 (local.get $op)) (f32x4.mul (local.get $v) (local.get $w1))))
                    (v128.store offset=32 (local.get $op) (f32x4.add (v128.load offset=32 (local.get $op)) (f32x4.mul (local.get $v) (local.get $w2))))
                    (v128.store offset=48 (local.get $op) (f32x4.add (v128.load offset=48 (local.get $op)) (f32x4.mul (local.get $v) (local.get $w3))))
                    (local.set $pp (i32.add (local.get $pp) (i32.const 4)))
                    (local.set $op (i32.add (local.get $op) (local.get $stride)))
                    (br $qLoop)))
                  (local.set $c (i32.add (local.get $c) (i32.const 16)))
                  (br $c16)))
                ;; Blocks of 4 channels.
                (block $done4 (loop $c4
                  (br_if $done4 (i32.gt_s (i32.add (local.get $c) (i32.const 4)) (local.get $channels)))
                  (local.set $w0 (v128.load (i32.add (local.get $wTap) (i32.shl (local.get $c) (i32.const 2)))))
                  (local.set $pp (i32.add (local.get $xRow) (i32.shl (i32.add (local.get $qStart) (local.get $cs)) (i32.const 2))))
                  (local.set $ppEnd (i32.add (local.get $xRow) (i32.shl (i32.add (local.get $qEnd) (local.get $cs)) (i32.const 2))))
                  (local.set $op (i32.add (i32.add (local.get $outRow) (i32.mul (local.get $qStart) (local.get $stride))) (i32.shl (local.get $c) (i32.const 2))))
                  (block $doneQ4 (loop $qLoop4
                    (br_if $doneQ4 (i32.ge_u (local.get $pp) (local.get $ppEnd)))
                    (v128.store (local.get $op) (f32x4.add (v128.load (local.get $op)) (f32x4.mul (f32x4.splat (f32.load (local.get $pp))) (local.get $w0))))
                    (local.set $pp (i32.add (local.get $pp) (i32.const 4)))
                    (local.set $op (i32.add (local.get $op) (local.get $stride)))
                    (br $qLoop4)))
                  (local.set $c (i32.add (local.get $c) (i32.const 4)))
                  (br $c4)))
                ;; The last channels one at a time.
                (block $done1 (loop $c1
                  (br_if $done1 (i32.ge_s (local.get $c) (local.get $channels)))
                  (local.set $s (f32.load (i32.add (local.get $wTap) (i32.shl (local.get $c) (i32.const 2)))))
                  (local.set $pp (i32.add (local.get $xRow) (i32.shl (i32.add (local.get $qStart) (local.get $cs)) (i32.const 2))))
                  (local.set $ppEnd (i32.add (local.get $xRow) (i32.shl (i32.add (local.get $qEnd) (local.get $cs)) (i32.const 2))))
                  (local.set $op (i32.add (i32.add (local.get $outRow) (i32.mul (local.get $qStart) (local.get $stride))) (i32.shl (local.get $c) (i32.const 2))))
                  (block $doneQ1 (loop $qLoop1
                    (br_if $doneQ1 (i32.ge_u (local.get $pp) (local.get $ppEnd)))
                    (f32.store (local.get $op) (f32.add (f32.load (local.get $op)) (f32.mul (f32.load (local.get $pp)) (local.get $s))))
                    (local.set $pp (i32.add (local.get $pp) (i32.const 4)))
                    (local.set $op (i32.add (local.get $op) (local.get $stride)))
                    (br $qLoop1)))
                  (local.set $c (i32.add (local.get $c) (i32.const 1)))
                  (br $c1)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $jLoop)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $iLoop)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $rowLoop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $batchLoop)))
  )

;; conv_many_to_one: `channels` input channels, one output channel, and
  ;; a scratch row of outCols v128 values (16 · outCols bytes) after the
  ;; shared parameters:
  ;;
  ;;   out[b, p, q] = Σ_{i, j, c} x[b, p + rowBase + i·dh, q + colBase + j·dw, c] · w[i, j, c, 0]
  ;;
  ;; Per output row, each tap's weights sit in v128 locals while its
  ;; contiguous valid column range adds x · w, summed lane-wise, into the
  ;; scratch row (in L1); the row's lanes are summed into `out` once all
  ;; taps are in. Channels beyond the 4-blocks add into lane 0.
  (func $conv_many_to_one (export "conv_many_to_one")
    (param $x i32) (param $w i32) (param $out i32)
    (param $batch i32) (param $rows i32) (param $cols i32)
    (param $outRows i32) (param $outCols i32) (param $channels i32)
    (param $kh i32) (param $kw i32)
    (param $rowBase i32) (param $colBase i32) (param $dh i32) (param $dw i32)
    (param $scratch i32)
    (local $b i32) (local $p i32) (local $i i32) (local $j i32) (local $c i32)
    (local $r i32) (local $cs i32) (local $qStart i32) (local $qEnd i32)
    (local $xRow i32) (local $wTap i32) (local $pp i32) (local $sp i32) (local $spEnd i32) (local $op i32) (local $stride i32)
    (local $v v128) (local $w0 v128) (local $w1 v128) (local $w2 v128) (local $w3 v128)
    (local $s f32)
    (local.set $stride (i32.shl (local.get $channels) (i32.const 2)))
    (local.set $op (local.get $out))
    (local.set $b (i32.const 0))
    (block $doneBatch (loop $batchLoop
      (br_if $doneBatch (i32.ge_s (local.get $b) (local.get $batch)))
      (local.set $p (i32.const 0))
      (block $doneRows (loop $rowLoop
        (br_if $doneRows (i32.ge_s (local.get $p) (local.get $outRows)))
        (memory.fill (local.get $scratch) (i32.const 0) (i32.shl (local.get $outCols) (i32.const 4)))
        (local.set $i (i32.const 0))
        (block $doneI (loop $iLoop
          (br_if $doneI (i32.ge_s (local.get $i) (local.get $kh)))
          (local.set $r (i32.add (local.get $p) (i32.add (local.get $rowBase) (i32.mul (local.get $i) (local.get $dh)))))
          (if (i32.and (i32.ge_s (local.get $r) (i32.const 0)) (i32.lt_s (local.get $r) (local.get $rows)))
            (then
              ;; xRow = &x[b, r, 0, 0]
              (local.set $xRow (i32.add (local.get $x)
                (i32.mul (i32.mul (i32.add (i32.mul (local.get $b) (local.get $rows)) (local.get $r)) (local.get $cols)) (local.get $stride))))
              (local.set $j (i32.const 0))
              (block $doneJ (loop $jLoop
                (br_if $doneJ (i32.ge_s (local.get $j) (local.get $kw)))
                ;; Columns q with 0 <= q + cs < cols, within [0, outCols).
                (local.set $cs (i32.add (local.get $colBase) (i32.mul (local.get $j) (local.get $dw))))
                (local.set $qStart (i32.sub (i32.const 0) (local.get $cs)))
                (if (i32.lt_s (local.get $qStart) (i32.const 0)) (then (local.set $qStart (i32.const 0))))
                (if (i32.gt_s (local.get $qStart) (local.get $outCols)) (then (local.set $qStart (local.get $outCols))))
                (local.set $qEnd (i32.sub (local.get $cols) (local.get $cs)))
                (if (i32.gt_s (local.get $qEnd) (local.get $outCols)) (then (local.set $qEnd (local.get $outCols))))
                (if (i32.lt_s (local.get $qEnd) (local.get $qStart)) (then (local.set $qEnd (local.get $qStart))))
                ;; wTap = &w[i, j, 0, 0]
                (local.set $wTap (i32.add (local.get $w)
                  (i32.mul (i32.add (i32.mul (local.get $i) (local.get $kw)) (local.get $j)) (local.get $stride))))
                (local.set $spEnd (i32.add (local.get $scratch) (i32.shl (local.get $qEnd) (i32.const 4))))
                (local.set $c (i32.const 0))
                ;; Blocks of 16 channels: the tap's weights in four v128 locals.
                (block $done16 (loop $c16
                  (br_if $done16 (i32.gt_s (i32.add (local.get $c) (i32.const 16)) (local.get $channels)))
                  (local.set $pp (i32.add (local.get $wTap) (i32.shl (local.get $c) (i32.const 2))))
                  (local.set $w0 (v128.load offset=0 (local.get $pp)))
                  (local.set $w1 (v128.load offset=16 (local.get $pp)))
                  (local.set $w2 (v128.load offset=32 (local.get $pp)))
                  (local.set $w3 (v128.load offset=48 (local.get $pp)))
                  ;; pp = &x[b, r, qStart + cs, c]
                  (local.set $pp (i32.add (local.get $xRow)
                    (i32.add (i32.mul (i32.add (local.get $qStart) (local.get $cs)) (local.get $stride)) (i32.shl (local.get $c) (i32.const 2)))))
                  (local.set $sp (i32.add (local.get $scratch) (i32.shl (local.get $qStart) (i32.const 4))))
                  (block $doneQ (loop $qLoop
                    (br_if $doneQ (i32.ge_u (local.get $sp) (local.get $spEnd)))
                    (local.set $v (f32x4.add
                      (f32x4.add (f32x4.mul (v128.load offset=0 (local.get $pp)) (local.get $w0)) (f32x4.mul (v128.load offset=16 (local.get $pp)) (local.get $w1)))
                      (f32x4.add (f32x4.mul (v128.load offset=32 (local.get $pp)) (local.get $w2)) (f32x4.mul (v128.load offset=48 (local.get $pp)) (local.get $w3)))))
                    (v128.store (local.get $sp) (f32x4.add (v128.load (local.get $sp)) (local.get $v)))
                    (local.set $pp (i32.add (local.get $pp) (local.get $stride)))
                    (local.set $sp (i32.add (local.get $sp) (i32.const 16)))
                    (br $qLoop)))
                  (local.set $c (i32.add (local.get $c) (i32.const 16)))
                  (br $c16)))
                ;; Blocks of 4 channels.
                (block $done4 (loop $c4
                  (br_if $done4 (i32.gt_s (i32.add (local.get $c) (i32.const 4)) (local.get $channels)))
                  (local.set $w0 (v128.load (i32.add (local.get $wTap) (i32.shl (local.get $c) (i32.const 2)))))
                  (local.set $pp (i32.add (local.get $xRow)
                    (i32.add (i32.mul (i32.add (local.get $qStart) (local.get $cs)) (local.get $stride)) (i32.shl (local.get $c) (i32.const 2)))))
                  (local.set $sp (i32.add (local.get $scratch) (i32.shl (local.get $qStart) (i32.const 4))))
                  (block $doneQ4 (loop $qLoop4
                    (br_if $doneQ4 (i32.ge_u (local.get $sp) (local.get $spEnd)))
                    (v128.store (local.get $sp) (f32x4.add (v128.load (local.get $sp)) (f32x4.mul (v128.load (local.get $pp)) (local.get $w0))))
                    (local.set $pp (i32.add (local.get $pp) (local.get $stride)))
                    (local.set $sp (i32.add (local.get $sp) (i32.const 16)))
                    (br $qLoop4)))
                  (local.set $c (i32.add (local.get $c) (i32.const 4)))
                  (br $c4)))
                ;; The last channels one at a time, into lane 0.
                (block $done1 (loop $c1
                  (br_if $done1 (i32.ge_s (local.get $c) (local.get $channels)))
                  (local.set $s (f32.load (i32.add (local.get $wTap) (i32.shl (local.get $c) (i32.const 2)))))
                  (local.set $pp (i32.add (local.get $xRow)
                    (i32.add (i32.mul (i32.add (local.get $qStart) (local.get $cs)) (local.get $stride)) (i32.shl (local.get $c) (i32.const 2)))))
                  (local.set $sp (i32.add (local.get $scratch) (i32.shl (local.get $qStart) (i32.const 4))))
                  (block $doneQ1 (loop $qLoop1
                    (br_if $doneQ1 (i32.ge_u (local.get $sp) (local.get $spEnd)))
                    (f32.store (local.get $sp) (f32.add (f32.load (local.get $sp)) (f32.mul (f32.load (local.get $pp)) (local.get $s))))
                    (local.set $pp (i32.add (local.get $pp) (local.get $stride)))
                    (local.set $sp (i32.add (local.get $sp) (i32.const 16)))
                    (br $qLoop1)))
                  (local.set $c (i32.add (local.get $c) (i32.const 1)))
                  (br $c1)))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $jLoop)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $iLoop)))
        ;; out[b, p, q] = the sum of scratch[q]'s lanes.
        (local.set $sp (local.get $scratch))
        (local.set $spEnd (i32.add (local.get $scratch) (i32.shl (local.get $outCols) (i32.const 4))))
        (block $doneSum (loop $sumLoop
          (br_if $doneSum (i32.ge_u (local.get $sp) (local.get $spEnd)))
          (local.set $v (v128.load (local.get $sp)))
          (f32.store (local.get $op)
            (f32.add
              (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
              (f32.add (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))
          (local.set $op (i32.add (local.get $op) (i32.const 4)))
          (local.set $sp (i32.add (local.get $sp) (i32.const 16)))
          (br $sumLoop)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $rowLoop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $batchLoop)))
  )
)
