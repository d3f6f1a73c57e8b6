;; The input gradient of a stride-1, dilation-1 2-D convolution with input
;; and output channel counts both multiples of 4, for the tfjs wasm backend,
;; in WebAssembly 128-bit SIMD (f32x4 mul/add only):
;;
;;   dx[b, h, w, c] = Σ_{i, j, o} dy[b, h − i + padTop, w − j + padLeft, o] · W[i, j, c, o]
;;
;; (dy outside its rows and columns is zero). It replaces, for these shapes,
;; the forward XNNPACK convolution of Conv2DBackpropInput, which creates its
;; operator and packs the (non-constant) kernel on every call.
;;
;; Works on tensors where tfjs keeps them (pointers: byte offsets into tfjs's
;; heap, float32, NHWC, densely packed), plus two scratch buffers the caller
;; allocates: `dyp`, dy with zeros around it, so that the inner loops need no
;; border tests, and `wt`, W with its channel axes swapped ([kh, kw, co, ci]),
;; so that each (tap, output channel) step reads contiguous input channels.
;; The line marked MEMORY is replaced by scripts/compile-wat.mjs.
;;
;; Register tiling: 4 neighbouring positions of a row × 8 input channels keep
;; 8 f32x4 accumulators, the two W vectors of one (tap, o) and one broadcast
;; dy value in 11 of V8's 16 xmm registers; a 4 × 4 tile takes the last 4
;; input channels when ci is not a multiple of 8. A row's last tile is moved
;; left to end at the last column (cols ≥ 4), recomputing and rewriting the
;; same values for the positions it shares with the one before. Each output
;; sums kh·kw·co float32 terms, stored once.
(module
  (import "env" "memory" (memory 0)) ;; MEMORY

  ;; $tile_p4c8 / $tile_p4c4: out[0..3 positions, 8 (or 4) channels] =
  ;; Σ over taps and o. dp: dyp at the first position for tap (0, 0);
  ;; wp: wt[0, 0, 0, c]; dRow: bytes between dyp rows; ds: between dyp
  ;; columns (co·4); wsO: between wt's o rows (ci·4); op: dx at the first
  ;; position; os: between dx columns (ci·4).
  (func $tile_p4c8
    (param $dp i32) (param $wp i32) (param $kh i32) (param $kw i32) (param $co i32)
    (param $dRow i32) (param $ds i32) (param $wsO i32) (param $op i32) (param $os i32)
    (local $i i32) (local $j i32) (local $d i32) (local $dEnd i32) (local $w i32) (local $ds2 i32) (local $ds3 i32)
    (local $s v128) (local $w0 v128) (local $w1 v128)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128) (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local.set $w (local.get $wp))
    (local.set $ds2 (i32.shl (local.get $ds) (i32.const 1)))
    (local.set $ds3 (i32.add (local.get $ds2) (local.get $ds)))
    ;; Tap (i, j) reads dyp row h + kh − 1 − i, column w + kw − 1 − j: start at tap (0, 0)'s and step back.
    (local.set $i (i32.const 0))
    (loop $iLoop
      (local.set $j (i32.const 0))
      (loop $jLoop
        (local.set $d (i32.sub (i32.sub (local.get $dp) (i32.mul (local.get $i) (local.get $dRow))) (i32.mul (local.get $j) (local.get $ds))))
        (local.set $dEnd (i32.add (local.get $d) (i32.shl (local.get $co) (i32.const 2))))
        (loop $oLoop
          (local.set $w0 (v128.load offset=0 (local.get $w)))
          (local.set $w1 (v128.load offset=16 (local.get $w)))
          (local.set $s (v128.load32_splat (local.get $d)))
          (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (local.get $w0))))
          (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $s) (local.get $w1))))
          (local.set $s (v128.load32_splat (i32.add (local.get $d) (local.get $ds))))
          (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $s) (local.get $w0))))
          (local.set $a11 (f32x4.add (local.get $a11) (f32x4.mul (local.get $s) (local.get $w1))))
          (local.set $s (v128.load32_splat (i32.add (local.get $d) (local.get $ds2))))
          (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (local.get $s) (local.get $w0))))
          (local.set $a21 (f32x4.add (local.get $a21) (f32x4.mul (local.get $s) (local.get $w1))))
          (local.set $s (v128.load32_splat (i32.add (local.get $d) (local.get $ds3))))
          (local.set $a30 (f32x4.add (local.get $a30) (f32x4.mul (local.get $s) (local.get $w0))))
          (local.set $a31 (f32x4.add (local.get $a31) (f32x4.mul (local.get $s) (local.get $w1))))
          (local.set $w (i32.add (local.get $w) (local.get $wsO)))
          (local.set $d (i32.add (local.get $d) (i32.const 4)))
          (br_if $oLoop (i32.lt_u (local.get $d) (local.get $dEnd))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $jLoop (i32.lt_s (local.get $j) (local.get $kw))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $iLoop (i32.lt_s (local.get $i) (local.get $kh))))
    (v128.store offset=0 (local.get $op) (local.get $a00))
    (v128.store offset=16 (local.get $op) (local.get $a01))
    (local.set $op (i32.add (local.get $op) (local.get $os)))
    (v128.store offset=0 (local.get $op) (local.get $a10))
    (v128.store offset=16 (local.get $op) (local.get $a11))
    (local.set $op (i32.add (local.get $op) (local.get $os)))
    (v128.store offset=0 (local.get $op) (local.get $a20))
    (v128.store offset=16 (local.get $op) (local.get $a21))
    (local.set $op (i32.add (local.get $op) (local.get $os)))
    (v128.store offset=0 (local.get $op) (local.get $a30))
    (v128.store offset=16 (local.get $op) (local.get $a31))
  )

  (func $tile_p4c4
    (param $dp i32) (param $wp i32) (param $kh i32) (param $kw i32) (param $co i32)
    (param $dRow i32) (param $ds i32) (param $wsO i32) (param $op i32) (param $os i32)
    (local $i i32) (local $j i32) (local $d i32) (local $dEnd i32) (local $w i32) (local $ds2 i32) (local $ds3 i32)
    (local $s v128) (local $w0 v128)
    (local $a00 v128) (local $a10 v128) (local $a20 v128) (local $a30 v128)
    (local.set $w (local.get $wp))
    (local.set $ds2 (i32.shl (local.get $ds) (i32.const 1)))
    (local.set $ds3 (i32.add (local.get $ds2) (local.get $ds)))
    (local.set $i (i32.const 0))
    (loop $iLoop
      (local.set $j (i32.const 0))
      (loop $jLoop
        (local.set $d (i32.sub (i32.sub (local.get $dp) (i32.mul (local.get $i) (local.get $dRow))) (i32.mul (local.get $j) (local.get $ds))))
        (local.set $dEnd (i32.add (local.get $d) (i32.shl (local.get $co) (i32.const 2))))
        (loop $oLoop
          (local.set $w0 (v128.load offset=0 (local.get $w)))
          (local.set $s (v128.load32_splat (local.get $d)))
          (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (local.get $w0))))
          (local.set $s (v128.load32_splat (i32.add (local.get $d) (local.get $ds))))
          (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $s) (local.get $w0))))
          (local.set $s (v128.load32_splat (i32.add (local.get $d) (local.get $ds2))))
          (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (local.get $s) (local.get $w0))))
          (local.set $s (v128.load32_splat (i32.add (local.get $d) (local.get $ds3))))
          (local.set $a30 (f32x4.add (local.get $a30) (f32x4.mul (local.get $s) (local.get $w0))))
          (local.set $w (i32.add (local.get $w) (local.get $wsO)))
          (local.set $d (i32.add (local.get $d) (i32.const 4)))
          (br_if $oLoop (i32.lt_u (local.get $d) (local.get $dEnd))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $jLoop (i32.lt_s (local.get $j) (local.get $kw))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $iLoop (i32.lt_s (local.get $i) (local.get $kh))))
    (v128.store (local.get $op) (local.get $a00))
    (local.set $op (i32.add (local.get $op) (local.get $os)))
    (v128.store (local.get $op) (local.get $a10))
    (local.set $op (i32.add (local.get $op) (local.get $os)))
    (v128.store (local.get $op) (local.get $a20))
    (local.set $op (i32.add (local.get $op) (local.get $os)))
    (v128.store (local.get $op) (local.get $a30))
  )

  ;; conv_input_grad: dx (float32 [batch, rows, cols, ci]) into `out`.
  ;; dyp: scratch of batch·(rows + kh − 1)·(cols + kw − 1)·co floats; wt:
  ;; scratch of kh·kw·ci·co floats (both overwritten). cols ≥ 4; ci and co
  ;; multiples of 4; padTop / padLeft: the forward's zeros before the first
  ;; row / column.
  (func $conv_input_grad (export "conv_input_grad")
    (param $dy i32) (param $filter i32) (param $out i32) (param $dyp i32) (param $wt i32)
    (param $batch i32) (param $rows i32) (param $cols i32) (param $ci i32)
    (param $outRows i32) (param $outCols i32) (param $co i32)
    (param $kh i32) (param $kw i32) (param $padTop i32) (param $padLeft i32)
    (local $pRows i32) (local $pCols i32) (local $ds i32) (local $dRow i32) (local $os i32)
    (local $b i32) (local $r i32) (local $src i32) (local $sStart i32) (local $sEnd i32)
    (local $t i32) (local $c i32) (local $o i32) (local $h i32) (local $q i32) (local $dp i32) (local $op i32)
    (local.set $pRows (i32.sub (i32.add (local.get $rows) (local.get $kh)) (i32.const 1)))
    (local.set $pCols (i32.sub (i32.add (local.get $cols) (local.get $kw)) (i32.const 1)))
    (local.set $ds (i32.shl (local.get $co) (i32.const 2)))
    (local.set $dRow (i32.mul (local.get $pCols) (local.get $ds)))
    (local.set $os (i32.shl (local.get $ci) (i32.const 2)))
    ;; wt[t, o, c] = W[t, c, o] for each tap t.
    (local.set $t (i32.const 0))
    (block $doneT (loop $tLoop
      (br_if $doneT (i32.ge_s (local.get $t) (i32.mul (local.get $kh) (local.get $kw))))
      (local.set $c (i32.const 0))
      (block $doneC (loop $cLoop
        (br_if $doneC (i32.ge_s (local.get $c) (local.get $ci)))
        (local.set $o (i32.const 0))
        (block $doneO (loop $oLoop
          (br_if $doneO (i32.ge_s (local.get $o) (local.get $co)))
          (f32.store
            (i32.add (local.get $wt) (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $t) (local.get $co)) (local.get $o)) (local.get $ci)) (local.get $c)) (i32.const 2)))
            (f32.load (i32.add (local.get $filter) (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $t) (local.get $ci)) (local.get $c)) (local.get $co)) (local.get $o)) (i32.const 2)))))
          (local.set $o (i32.add (local.get $o) (i32.const 1)))
          (br $oLoop)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cLoop)))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (br $tLoop)))
    ;; dyp[b, r, s] = dy[b, r − (kh − 1) + padTop, s − (kw − 1) + padLeft], zero outside dy.
    (memory.fill (local.get $dyp) (i32.const 0) (i32.mul (i32.mul (local.get $batch) (local.get $pRows)) (local.get $dRow)))
    (local.set $sStart (i32.sub (i32.sub (local.get $kw) (i32.const 1)) (local.get $padLeft)))
    (local.set $sEnd (i32.add (local.get $sStart) (local.get $outCols)))
    (if (i32.lt_s (local.get $sStart) (i32.const 0)) (then (local.set $sStart (i32.const 0))))
    (if (i32.gt_s (local.get $sEnd) (local.get $pCols)) (then (local.set $sEnd (local.get $pCols))))
    (if (i32.lt_s (local.get $sStart) (local.get $sEnd))
      (then
        (local.set $b (i32.const 0))
        (block $doneB (loop $bLoop
          (br_if $doneB (i32.ge_s (local.get $b) (local.get $batch)))
          (local.set $r (i32.const 0))
          (block $doneR (loop $rLoop
            (br_if $doneR (i32.ge_s (local.get $r) (local.get $pRows)))
            ;; src = the dy row of dyp row r
            (local.set $src (i32.add (i32.sub (local.get $r) (i32.sub (local.get $kh) (i32.const 1))) (local.get $padTop)))
            (if (i32.and (i32.ge_s (local.get $src) (i32.const 0)) (i32.lt_s (local.get $src) (local.get $outRows)))
              (then
                (memory.copy
                  (i32.add (local.get $dyp) (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $pRows)) (local.get $r)) (local.get $dRow)) (i32.mul (local.get $sStart) (local.get $ds))))
                  (i32.add (local.get $dy) (i32.mul (local.get $ds) (i32.add
                    (i32.mul (i32.add (i32.mul (local.get $b) (local.get $outRows)) (local.get $src)) (local.get $outCols))
                    (i32.add (i32.sub (local.get $sStart) (i32.sub (local.get $kw) (i32.const 1))) (local.get $padLeft)))))
                  (i32.mul (i32.sub (local.get $sEnd) (local.get $sStart)) (local.get $ds)))))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rLoop)))
          (local.set $b (i32.add (local.get $b) (i32.const 1)))
          (br $bLoop)))))
    ;; Output rows (b, h): tiles of 4 columns, the last one ending at the last column.
    (local.set $b (i32.const 0))
    (block $doneB2 (loop $bLoop2
      (br_if $doneB2 (i32.ge_s (local.get $b) (local.get $batch)))
      (local.set $h (i32.const 0))
      (block $doneH (loop $hLoop
        (br_if $doneH (i32.ge_s (local.get $h) (local.get $rows)))
        (local.set $q (i32.const 0))
        (block $doneQ (loop $qLoop
          (br_if $doneQ (i32.ge_s (local.get $q) (local.get $cols)))
          (if (i32.gt_s (i32.add (local.get $q) (i32.const 4)) (local.get $cols)) (then (local.set $q (i32.sub (local.get $cols) (i32.const 4)))))
          ;; dp = &dyp[b, h + kh − 1, q + kw − 1, 0] (tap (0, 0)); op = &dx[b, h, q, 0]
          (local.set $dp (i32.add (local.get $dyp) (i32.add
            (i32.mul (i32.add (i32.mul (local.get $b) (local.get $pRows)) (i32.add (local.get $h) (i32.sub (local.get $kh) (i32.const 1)))) (local.get $dRow))
            (i32.mul (i32.add (local.get $q) (i32.sub (local.get $kw) (i32.const 1))) (local.get $ds)))))
          (local.set $op (i32.add (local.get $out) (i32.mul (local.get $os)
            (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $rows)) (local.get $h)) (local.get $cols)) (local.get $q)))))
          (local.set $c (i32.const 0))
          (block $done8 (loop $cLoop8
            (br_if $done8 (i32.gt_s (i32.add (local.get $c) (i32.const 8)) (local.get $ci)))
            (call $tile_p4c8 (local.get $dp) (i32.add (local.get $wt) (i32.shl (local.get $c) (i32.const 2)))
              (local.get $kh) (local.get $kw) (local.get $co) (local.get $dRow) (local.get $ds) (local.get $os)
              (i32.add (local.get $op) (i32.shl (local.get $c) (i32.const 2))) (local.get $os))
            (local.set $c (i32.add (local.get $c) (i32.const 8)))
            (br $cLoop8)))
          (if (i32.lt_s (local.get $c) (local.get $ci))
            (then
              (call $tile_p4c4 (local.get $dp) (i32.add (local.get $wt) (i32.shl (local.get $c) (i32.const 2)))
                (local.get $kh) (local.get $kw) (local.get $co) (local.get $dRow) (local.get $ds) (local.get $os)
                (i32.add (local.get $op) (i32.shl (local.get $c) (i32.const 2))) (local.get $os))))
          (local.set $q (i32.add (local.get $q) (i32.const 4)))
          (br $qLoop)))
        (local.set $h (i32.add (local.get $h) (i32.const 1)))
        (br $hLoop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bLoop2)))
  )
)
