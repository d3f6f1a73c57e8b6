;; The gradient of a 2×2, stride-2 max pool whose windows tile the input, for
;; the tfjs wasm backend, in WebAssembly 128-bit SIMD (f32x4 only: no relaxed
;; SIMD, so Node 20 runs it).
;;
;; The module imports tfjs's own memory and works on tensors where tfjs keeps
;; them: every pointer is a byte offset into that heap, every tensor float32,
;; NHWC, densely packed. Compiled by scripts/compile-wat.mjs (wabt) into
;; max-pool-grad.generated.ts; the line marked MEMORY is replaced there
;; (plain or shared memory import).
(module
  (import "env" "memory" (memory 0)) ;; MEMORY

  ;; max_pool_grad_2x2(x, dy, dx, windowRows, outCols, c)
  ;;
  ;; x and dx are [batch, 2·outRows, 2·outCols, c], dy is [batch, outRows,
  ;; outCols, c]; windowRows = batch·outRows (the batch's window rows follow
  ;; one another: input rows 2R and 2R + 1 hold window row R). Each window's
  ;; four dx elements are written (no zeroing pass): dy goes to the first
  ;; maximum in row-major order, the running maximum starting at −∞ and a
  ;; tap winning when strictly greater, so NaN never wins and a window of
  ;; NaN and −∞ only passes nothing on; the others get 0. In SIMD: four
  ;; channels at a time, each tap's `greater` mask kept, the winner the last
  ;; tap whose mask is set; the remaining 0–3 channels one at a time.
  (func (export "max_pool_grad_2x2")
    (param $x i32) (param $dy i32) (param $dx i32)
    (param $windowRows i32) (param $outCols i32) (param $c i32)
    (local $R i32) (local $q i32) (local $ch i32) (local $vecBytes i32) (local $cBytes i32) (local $rowBytes i32)
    (local $p00 i32) (local $pdy i32) (local $o i32)
    (local $x00 v128) (local $x01 v128) (local $x10 v128) (local $x11 v128) (local $g v128) (local $m v128)
    (local $g00 v128) (local $g01 v128) (local $g10 v128) (local $g11 v128) (local $later v128)
    (local $s00 f32) (local $s01 f32) (local $s10 f32) (local $s11 f32) (local $sg f32) (local $sm f32) (local $win i32)
    (local.set $cBytes (i32.shl (local.get $c) (i32.const 2)))
    (local.set $vecBytes (i32.and (local.get $cBytes) (i32.const -16)))
    ;; Bytes of one input row.
    (local.set $rowBytes (i32.shl (i32.mul (local.get $outCols) (local.get $cBytes)) (i32.const 1)))
    (local.set $pdy (local.get $dy))
    (local.set $R (i32.const 0))
    (block $doneRows (loop $rowLoop
      (br_if $doneRows (i32.ge_s (local.get $R) (local.get $windowRows)))
      (local.set $q (i32.const 0))
      (block $doneCols (loop $colLoop
        (br_if $doneCols (i32.ge_s (local.get $q) (local.get $outCols)))
        ;; Byte offset of the window's top-left element: input row 2R, column 2q.
        (local.set $p00 (i32.add
          (i32.mul (i32.shl (local.get $R) (i32.const 1)) (local.get $rowBytes))
          (i32.mul (i32.shl (local.get $q) (i32.const 1)) (local.get $cBytes))))
        (local.set $ch (i32.const 0))
        (block $doneVec (loop $vecLoop
          (br_if $doneVec (i32.ge_u (local.get $ch) (local.get $vecBytes)))
          (local.set $o (i32.add (local.get $p00) (local.get $ch)))
          (local.set $o (i32.add (local.get $x) (local.get $o)))
          (local.set $x00 (v128.load (local.get $o)))
          (local.set $x01 (v128.load (i32.add (local.get $o) (local.get $cBytes))))
          (local.set $x10 (v128.load (i32.add (local.get $o) (local.get $rowBytes))))
          (local.set $x11 (v128.load (i32.add (i32.add (local.get $o) (local.get $rowBytes)) (local.get $cBytes))))
          (local.set $g (v128.load (i32.add (local.get $pdy) (local.get $ch))))
          ;; The running maximum from −∞; each tap's mask: strictly greater than the maximum before it.
          (local.set $g00 (f32x4.gt (local.get $x00) (f32x4.splat (f32.const -inf))))
          (local.set $m (v128.bitselect (local.get $x00) (f32x4.splat (f32.const -inf)) (local.get $g00)))
          (local.set $g01 (f32x4.gt (local.get $x01) (local.get $m)))
          (local.set $m (v128.bitselect (local.get $x01) (local.get $m) (local.get $g01)))
          (local.set $g10 (f32x4.gt (local.get $x10) (local.get $m)))
          (local.set $m (v128.bitselect (local.get $x10) (local.get $m) (local.get $g10)))
          (local.set $g11 (f32x4.gt (local.get $x11) (local.get $m)))
          ;; The winner is the last tap whose mask is set.
          (local.set $o (i32.add (local.get $dx) (i32.add (local.get $p00) (local.get $ch))))
          (v128.store (i32.add (i32.add (local.get $o) (local.get $rowBytes)) (local.get $cBytes))
            (v128.and (local.get $g) (local.get $g11)))
          (local.set $later (local.get $g11))
          (v128.store (i32.add (local.get $o) (local.get $rowBytes))
            (v128.and (local.get $g) (v128.andnot (local.get $g10) (local.get $later))))
          (local.set $later (v128.or (local.get $later) (local.get $g10)))
          (v128.store (i32.add (local.get $o) (local.get $cBytes))
            (v128.and (local.get $g) (v128.andnot (local.get $g01) (local.get $later))))
          (local.set $later (v128.or (local.get $later) (local.get $g01)))
          (v128.store (local.get $o)
            (v128.and (local.get $g) (v128.andnot (local.get $g00) (local.get $later))))
          (local.set $ch (i32.add (local.get $ch) (i32.const 16)))
          (br $vecLoop)))
        ;; The remaining channels: the same rule, one at a time (win: 0 none, 1–4 the tap).
        (block $doneTail (loop $tailLoop
          (br_if $doneTail (i32.ge_u (local.get $ch) (local.get $cBytes)))
          (local.set $o (i32.add (local.get $x) (i32.add (local.get $p00) (local.get $ch))))
          (local.set $s00 (f32.load (local.get $o)))
          (local.set $s01 (f32.load (i32.add (local.get $o) (local.get $cBytes))))
          (local.set $s10 (f32.load (i32.add (local.get $o) (local.get $rowBytes))))
          (local.set $s11 (f32.load (i32.add (i32.add (local.get $o) (local.get $rowBytes)) (local.get $cBytes))))
          (local.set $sg (f32.load (i32.add (local.get $pdy) (local.get $ch))))
          (local.set $sm (f32.const -inf))
          (local.set $win (i32.const 0))
          (if (f32.gt (local.get $s00) (local.get $sm)) (then (local.set $sm (local.get $s00)) (local.set $win (i32.const 1))))
          (if (f32.gt (local.get $s01) (local.get $sm)) (then (local.set $sm (local.get $s01)) (local.set $win (i32.const 2))))
          (if (f32.gt (local.get $s10) (local.get $sm)) (then (local.set $sm (local.get $s10)) (local.set $win (i32.const 3))))
          (if (f32.gt (local.get $s11) (local.get $sm)) (then (local.set $win (i32.const 4))))
          (local.set $o (i32.add (local.get $dx) (i32.add (local.get $p00) (local.get $ch))))
          (f32.store (local.get $o)
            (select (local.get $sg) (f32.const 0) (i32.eq (local.get $win) (i32.const 1))))
          (f32.store (i32.add (local.get $o) (local.get $cBytes))
            (select (local.get $sg) (f32.const 0) (i32.eq (local.get $win) (i32.const 2))))
          (f32.store (i32.add (local.get $o) (local.get $rowBytes))
            (select (local.get $sg) (f32.const 0) (i32.eq (local.get $win) (i32.const 3))))
          (f32.store (i32.add (i32.add (local.get $o) (local.get $rowBytes)) (local.get $cBytes))
            (select (local.get $sg) (f32.const 0) (i32.eq (local.get $win) (i32.const 4))))
          (local.set $ch (i32.add (local.get $ch) (i32.const 4)))
          (br $tailLoop)))
        (local.set $pdy (i32.add (local.get $pdy) (local.get $cBytes)))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $colLoop)))
      (local.set $R (i32.add (local.get $R) (i32.const 1)))
      (br $rowLoop))))
)
