;; Training-mode batch normalisation and its gradient for the tfjs wasm
;; backend, in WebAssembly 128-bit SIMD (f32x4 and f64x2 only: no relaxed
;; SIMD, so Node 20 runs it).
;;
;; The module imports tfjs's own memory and works on tensors where tfjs keeps
;; them: every pointer is a byte offset into that heap. `x`, `dy` and the
;; outputs are float32 `[rows, c]` (channels last, densely packed); the
;; per-channel parameters are float32 `[c]` unless named `...64` (float64
;; `[c]`). Any channel count: blocks of 8 and 4 channels in SIMD, the rest one
;; channel at a time. Every channel sum is accumulated in float64
;; (f64x2.promote_low_f32x4 of each half of a loaded f32x4): a float32 sum
;; over 100,000 rows drifts. Each reduction walks the rows once per block of
;; channels, with the block's sums in locals.
;; Compiled by scripts/compile-wat.mjs (wabt) into batch-norm.generated.ts;
;; the line marked MEMORY is replaced there (plain or shared memory import).
(module
  (import "env" "memory" (memory 0)) ;; MEMORY

  ;; channel_sums(x, rows, c, out64): out64[ch] = Σ_r x[r, ch].
  (func (export "channel_sums")
    (param $x i32) (param $rows i32) (param $c i32) (param $out i32)
    (local $ch i32) (local $p i32) (local $end i32) (local $stride i32)
    (local $v v128) (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $s f64)
    (local.set $stride (i32.shl (local.get $c) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $stride))))
    (local.set $ch (i32.const 0))
    ;; Blocks of 8 channels: 4 f64x2 sums.
    (block $done8 (loop $blocks8
      (br_if $done8 (i32.gt_s (i32.add (local.get $ch) (i32.const 8)) (local.get $c)))
      (local.set $s0 (f64x2.splat (f64.const 0)))
      (local.set $s1 (f64x2.splat (f64.const 0)))
      (local.set $s2 (f64x2.splat (f64.const 0)))
      (local.set $s3 (f64x2.splat (f64.const 0)))
      (local.set $p (i32.add (local.get $x) (i32.shl (local.get $ch) (i32.const 2))))
      (block $doneRows (loop $rowLoop
        (br_if $doneRows (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $v (v128.load (local.get $p)))
        (local.set $s0 (f64x2.add (local.get $s0) (f64x2.promote_low_f32x4 (local.get $v))))
        (local.set $s1 (f64x2.add (local.get $s1)
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
        (local.set $v (v128.load offset=16 (local.get $p)))
        (local.set $s2 (f64x2.add (local.get $s2) (f64x2.promote_low_f32x4 (local.get $v))))
        (local.set $s3 (f64x2.add (local.get $s3)
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
        (local.set $p (i32.add (local.get $p) (local.get $stride)))
        (br $rowLoop)))
      (local.set $p (i32.add (local.get $out) (i32.shl (local.get $ch) (i32.const 3))))
      (v128.store (local.get $p) (local.get $s0))
      (v128.store offset=16 (local.get $p) (local.get $s1))
      (v128.store offset=32 (local.get $p) (local.get $s2))
      (v128.store offset=48 (local.get $p) (local.get $s3))
      (local.set $ch (i32.add (local.get $ch) (i32.const 8)))
      (br $blocks8)))
    ;; One block of 4 channels: 2 f64x2 sums.
    (if (i32.le_s (i32.add (local.get $ch) (i32.const 4)) (local.get $c))
      (then
        (local.set $s0 (f64x2.splat (f64.const 0)))
        (local.set $s1 (f64x2.splat (f64.const 0)))
        (local.set $p (i32.add (local.get $x) (i32.shl (local.get $ch) (i32.const 2))))
        (block $doneRows (loop $rowLoop
          (br_if $doneRows (i32.ge_u (local.get $p) (local.get $end)))
          (local.set $v (v128.load (local.get $p)))
          (local.set $s0 (f64x2.add (local.get $s0) (f64x2.promote_low_f32x4 (local.get $v))))
          (local.set $s1 (f64x2.add (local.get $s1)
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
          (local.set $p (i32.add (local.get $p) (local.get $stride)))
          (br $rowLoop)))
        (local.set $p (i32.add (local.get $out) (i32.shl (local.get $ch) (i32.const 3))))
        (v128.store (local.get $p) (local.get $s0))
        (v128.store offset=16 (local.get $p) (local.get $s1))
        (local.set $ch (i32.add (local.get $ch) (i32.const 4)))))
    ;; The remaining 0 to 3 channels, one at a time.
    (block $done1 (loop $channels1
      (br_if $done1 (i32.ge_s (local.get $ch) (local.get $c)))
      (local.set $s (f64.const 0))
      (local.set $p (i32.add (local.get $x) (i32.shl (local.get $ch) (i32.const 2))))
      (block $doneRows (loop $rowLoop
        (br_if $doneRows (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $s (f64.add (local.get $s) (f64.promote_f32 (f32.load (local.get $p)))))
        (local.set $p (i32.add (local.get $p) (local.get $stride)))
        (br $rowLoop)))
      (f64.store (i32.add (local.get $out) (i32.shl (local.get $ch) (i32.const 3))) (local.get $s))
      (local.set $ch (i32.add (local.get $ch) (i32.const 1)))
      (br $channels1))))

  ;; channel_squared_deviations(x, rows, c, mean64, out64):
  ;; out64[ch] = Σ_r (x[r, ch] − mean64[ch])², the difference taken in float64.
  (func (export "channel_squared_deviations")
    (param $x i32) (param $rows i32) (param $c i32) (param $mean i32) (param $out i32)
    (local $ch i32) (local $p i32) (local $end i32) (local $stride i32)
    (local $v v128) (local $d v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128)
    (local $s f64) (local $m f64) (local $e f64)
    (local.set $stride (i32.shl (local.get $c) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $stride))))
    (local.set $ch (i32.const 0))
    (block $done8 (loop $blocks8
      (br_if $done8 (i32.gt_s (i32.add (local.get $ch) (i32.const 8)) (local.get $c)))
      (local.set $p (i32.add (local.get $mean) (i32.shl (local.get $ch) (i32.const 3))))
      (local.set $m0 (v128.load (local.get $p)))
      (local.set $m1 (v128.load offset=16 (local.get $p)))
      (local.set $m2 (v128.load offset=32 (local.get $p)))
      (local.set $m3 (v128.load offset=48 (local.get $p)))
      (local.set $s0 (f64x2.splat (f64.const 0)))
      (local.set $s1 (f64x2.splat (f64.const 0)))
      (local.set $s2 (f64x2.splat (f64.const 0)))
      (local.set $s3 (f64x2.splat (f64.const 0)))
      (local.set $p (i32.add (local.get $x) (i32.shl (local.get $ch) (i32.const 2))))
      (block $doneRows (loop $rowLoop
        (br_if $doneRows (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $v (v128.load (local.get $p)))
        (local.set $d (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $m0)))
        (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $d (f64x2.sub
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))
          (local.get $m1)))
        (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $v (v128.load offset=16 (local.get $p)))
        (local.set $d (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $m2)))
        (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $d (f64x2.sub
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))
          (local.get $m3)))
        (local.set $s3 (f64x2.add (local.get $s3) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $p (i32.add (local.get $p) (local.get $stride)))
        (br $rowLoop)))
      (local.set $p (i32.add (local.get $out) (i32.shl (local.get $ch) (i32.const 3))))
      (v128.store (local.get $p) (local.get $s0))
      (v128.store offset=16 (local.get $p) (local.get $s1))
      (v128.store offset=32 (local.get $p) (local.get $s2))
      (v128.store offset=48 (local.get $p) (local.get $s3))
      (local.set $ch (i32.add (local.get $ch) (i32.const 8)))
      (br $blocks8)))
    (if (i32.le_s (i32.add (local.get $ch) (i32.const 4)) (local.get $c))
      (then
        (local.set $p (i32.add (local.get $mean) (i32.shl (local.get $ch) (i32.const 3))))
        (local.set $m0 (v128.load (local.get $p)))
        (local.set $m1 (v128.load offset=16 (local.get $p)))
        (local.set $s0 (f64x2.splat (f64.const 0)))
        (local.set $s1 (f64x2.splat (f64.const 0)))
        (local.set $p (i32.add (local.get $x) (i32.shl (local.get $ch) (i32.const 2))))
        (block $doneRows (loop $rowLoop
          (br_if $doneRows (i32.ge_u (local.get $p) (local.get $end)))
          (local.set $v (v128.load (local.get $p)))
          (local.set $d (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (local.get $m0)))
          (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $d) (local.get $d))))
          (local.set $d (f64x2.sub
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))
            (local.get $m1)))
          (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $d) (local.get $d))))
          (local.set $p (i32.add (local.get $p) (local.get $stride)))
          (br $rowLoop)))
        (local.set $p (i32.add (local.get $out) (i32.shl (local.get $ch) (i32.const 3))))
        (v128.store (local.get $p) (local.get $s0))
        (v128.store offset=16 (local.get $p) (local.get $s1))
        (local.set $ch (i32.add (local.get $ch) (i32.const 4)))))
    (block $done1 (loop $channels1
      (br_if $done1 (i32.ge_s (local.get $ch) (local.get $c)))
      (local.set $m (f64.load (i32.add (local.get $mean) (i32.shl (local.get $ch) (i32.const 3)))))
      (local.set $s (f64.const 0))
      (local.set $p (i32.add (local.get $x) (i32.shl (local.get $ch) (i32.const 2))))
      (block $doneRows (loop $rowLoop
        (br_if $doneRows (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $e (f64.sub (f64.promote_f32 (f32.load (local.get $p))) (local.get $m)))
        (local.set $s (f64.add (local.get $s) (f64.mul (local.get $e) (local.get $e))))
        (local.set $p (i32.add (local.get $p) (local.get $stride)))
        (br $rowLoop)))
      (f64.store (i32.add (local.get $out) (i32.shl (local.get $ch) (i32.const 3))) (local.get $s))
      (local.set $ch (i32.add (local.get $ch) (i32.const 1)))
      (br $channels1))))

  ;; normalize(x, y, rows, c, mean, scale, beta):
  ;; y[r, ch] = (x[r, ch] − mean[ch])·scale[ch] + beta[ch], in float32 (the
  ;; centring first: no cancellation between x·scale and mean·scale).
  (func (export "normalize")
    (param $x i32) (param $y i32) (param $rows i32) (param $c i32)
    (param $mean i32) (param $scale i32) (param $beta i32)
    (local $r i32) (local $q i32) (local $vecBytes i32) (local $rowBytes i32) (local $px i32) (local $py i32)
    (local.set $rowBytes (i32.shl (local.get $c) (i32.const 2)))
    ;; Bytes of the channels handled 4 at a time.
    (local.set $vecBytes (i32.and (local.get $rowBytes) (i32.const -16)))
    (local.set $r (i32.const 0))
    (block $doneRows (loop $rowLoop
      (br_if $doneRows (i32.ge_s (local.get $r) (local.get $rows)))
      (local.set $px (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $rowBytes))))
      (local.set $py (i32.add (local.get $y) (i32.mul (local.get $r) (local.get $rowBytes))))
      (local.set $q (i32.const 0))
      (block $doneVec (loop $vecLoop
        (br_if $doneVec (i32.ge_u (local.get $q) (local.get $vecBytes)))
        (v128.store (i32.add (local.get $py) (local.get $q))
          (f32x4.add
            (f32x4.mul
              (f32x4.sub (v128.load (i32.add (local.get $px) (local.get $q))) (v128.load (i32.add (local.get $mean) (local.get $q))))
              (v128.load (i32.add (local.get $scale) (local.get $q))))
            (v128.load (i32.add (local.get $beta) (local.get $q)))))
        (local.set $q (i32.add (local.get $q) (i32.const 16)))
        (br $vecLoop)))
      (block $doneTail (loop $tailLoop
        (br_if $doneTail (i32.ge_u (local.get $q) (local.get $rowBytes)))
        (f32.store (i32.add (local.get $py) (local.get $q))
          (f32.add
            (f32.mul
              (f32.sub (f32.load (i32.add (local.get $px) (local.get $q))) (f32.load (i32.add (local.get $mean) (local.get $q))))
              (f32.load (i32.add (local.get $scale) (local.get $q))))
            (f32.load (i32.add (local.get $beta) (local.get $q)))))
        (local.set $q (i32.add (local.get $q) (i32.const 4)))
        (br $tailLoop)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rowLoop))))

  ;; gradient_sums(dy, x, rows, c, mean, sumDy64, sumDyCentred64):
  ;; sumDy64[ch] = Σ_r dy[r, ch] and sumDyCentred64[ch] = Σ_r dy[r, ch]·(x[r, ch] − mean[ch]),
  ;; each term dy·(x − mean) rounded once to float32 (a relative error per
  ;; term, no drift) and the sums in float64.
  (func (export "gradient_sums")
    (param $dy i32) (param $x i32) (param $rows i32) (param $c i32)
    (param $mean i32) (param $sumDy i32) (param $sumDyCentred i32)
    (local $ch i32) (local $p i32) (local $dp i32) (local $end i32) (local $stride i32)
    (local $g v128) (local $t v128) (local $m0 v128) (local $m1 v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local $sa f64) (local $sb f64) (local $m f32) (local $gs f32)
    (local.set $stride (i32.shl (local.get $c) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $stride))))
    (local.set $ch (i32.const 0))
    (block $done8 (loop $blocks8
      (br_if $done8 (i32.gt_s (i32.add (local.get $ch) (i32.const 8)) (local.get $c)))
      (local.set $p (i32.add (local.get $mean) (i32.shl (local.get $ch) (i32.const 2))))
      (local.set $m0 (v128.load (local.get $p)))
      (local.set $m1 (v128.load offset=16 (local.get $p)))
      (local.set $a0 (f64x2.splat (f64.const 0)))
      (local.set $a1 (f64x2.splat (f64.const 0)))
      (local.set $a2 (f64x2.splat (f64.const 0)))
      (local.set $a3 (f64x2.splat (f64.const 0)))
      (local.set $b0 (f64x2.splat (f64.const 0)))
      (local.set $b1 (f64x2.splat (f64.const 0)))
      (local.set $b2 (f64x2.splat (f64.const 0)))
      (local.set $b3 (f64x2.splat (f64.const 0)))
      (local.set $p (i32.add (local.get $x) (i32.shl (local.get $ch) (i32.const 2))))
      (local.set $dp (i32.add (local.get $dy) (i32.shl (local.get $ch) (i32.const 2))))
      (block $doneRows (loop $rowLoop
        (br_if $doneRows (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $g (v128.load (local.get $dp)))
        (local.set $t (f32x4.mul (local.get $g) (f32x4.sub (v128.load (local.get $p)) (local.get $m0))))
        (local.set $a0 (f64x2.add (local.get $a0) (f64x2.promote_low_f32x4 (local.get $g))))
        (local.set $a1 (f64x2.add (local.get $a1)
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $g) (local.get $g)))))
        (local.set $b0 (f64x2.add (local.get $b0) (f64x2.promote_low_f32x4 (local.get $t))))
        (local.set $b1 (f64x2.add (local.get $b1)
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $t) (local.get $t)))))
        (local.set $g (v128.load offset=16 (local.get $dp)))
        (local.set $t (f32x4.mul (local.get $g) (f32x4.sub (v128.load offset=16 (local.get $p)) (local.get $m1))))
        (local.set $a2 (f64x2.add (local.get $a2) (f64x2.promote_low_f32x4 (local.get $g))))
        (local.set $a3 (f64x2.add (local.get $a3)
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $g) (local.get $g)))))
        (local.set $b2 (f64x2.add (local.get $b2) (f64x2.promote_low_f32x4 (local.get $t))))
        (local.set $b3 (f64x2.add (local.get $b3)
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $t) (local.get $t)))))
        (local.set $p (i32.add (local.get $p) (local.get $stride)))
        (local.set $dp (i32.add (local.get $dp) (local.get $stride)))
        (br $rowLoop)))
      (local.set $p (i32.add (local.get $sumDy) (i32.shl (local.get $ch) (i32.const 3))))
      (v128.store (local.get $p) (local.get $a0))
      (v128.store offset=16 (local.get $p) (local.get $a1))
      (v128.store offset=32 (local.get $p) (local.get $a2))
      (v128.store offset=48 (local.get $p) (local.get $a3))
      (local.set $p (i32.add (local.get $sumDyCentred) (i32.shl (local.get $ch) (i32.const 3))))
      (v128.store (local.get $p) (local.get $b0))
      (v128.store offset=16 (local.get $p) (local.get $b1))
      (v128.store offset=32 (local.get $p) (local.get $b2))
      (v128.store offset=48 (local.get $p) (local.get $b3))
      (local.set $ch (i32.add (local.get $ch) (i32.const 8)))
      (br $blocks8)))
    (if (i32.le_s (i32.add (local.get $ch) (i32.const 4)) (local.get $c))
      (then
        (local.set $m0 (v128.load (i32.add (local.get $mean) (i32.shl (local.get $ch) (i32.const 2)))))
        (local.set $a0 (f64x2.splat (f64.const 0)))
        (local.set $a1 (f64x2.splat (f64.const 0)))
        (local.set $b0 (f64x2.splat (f64.const 0)))
        (local.set $b1 (f64x2.splat (f64.const 0)))
        (local.set $p (i32.add (local.get $x) (i32.shl (local.get $ch) (i32.const 2))))
        (local.set $dp (i32.add (local.get $dy) (i32.shl (local.get $ch) (i32.const 2))))
        (block $doneRows (loop $rowLoop
          (br_if $doneRows (i32.ge_u (local.get $p) (local.get $end)))
          (local.set $g (v128.load (local.get $dp)))
          (local.set $t (f32x4.mul (local.get $g) (f32x4.sub (v128.load (local.get $p)) (local.get $m0))))
          (local.set $a0 (f64x2.add (local.get $a0) (f64x2.promote_low_f32x4 (local.get $g))))
          (local.set $a1 (f64x2.add (local.get $a1)
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $g) (local.get $g)))))
          (local.set $b0 (f64x2.add (local.get $b0) (f64x2.promote_low_f32x4 (local.get $t))))
          (local.set $b1 (f64x2.add (local.get $b1)
            (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $t) (local.get $t)))))
          (local.set $p (i32.add (local.get $p) (local.get $stride)))
          (local.set $dp (i32.add (local.get $dp) (local.get $stride)))
          (br $rowLoop)))
        (local.set $p (i32.add (local.get $sumDy) (i32.shl (local.get $ch) (i32.const 3))))
        (v128.store (local.get $p) (local.get $a0))
        (v128.store offset=16 (local.get $p) (local.get $a1))
        (local.set $p (i32.add (local.get $sumDyCentred) (i32.shl (local.get $ch) (i32.const 3))))
        (v128.store (local.get $p) (local.get $b0))
        (v128.store offset=16 (local.get $p) (local.get $b1))
        (local.set $ch (i32.add (local.get $ch) (i32.const 4)))))
    (block $done1 (loop $channels1
      (br_if $done1 (i32.ge_s (local.get $ch) (local.get $c)))
      (local.set $m (f32.load (i32.add (local.get $mean) (i32.shl (local.get $ch) (i32.const 2)))))
      (local.set $sa (f64.const 0))
      (local.set $sb (f64.const 0))
      (local.set $p (i32.add (local.get $x) (i32.shl (local.get $ch) (i32.const 2))))
      (local.set $dp (i32.add (local.get $dy) (i32.shl (local.get $ch) (i32.const 2))))
      (block $doneRows (loop $rowLoop
        (br_if $doneRows (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $gs (f32.load (local.get $dp)))
        (local.set $sa (f64.add (local.get $sa) (f64.promote_f32 (local.get $gs))))
        (local.set $sb (f64.add (local.get $sb)
          (f64.promote_f32 (f32.mul (local.get $gs) (f32.sub (f32.load (local.get $p)) (local.get $m))))))
        (local.set $p (i32.add (local.get $p) (local.get $stride)))
        (local.set $dp (i32.add (local.get $dp) (local.get $stride)))
        (br $rowLoop)))
      (f64.store (i32.add (local.get $sumDy) (i32.shl (local.get $ch) (i32.const 3))) (local.get $sa))
      (f64.store (i32.add (local.get $sumDyCentred) (i32.shl (local.get $ch) (i32.const 3))) (local.get $sb))
      (local.set $ch (i32.add (local.get $ch) (i32.const 1)))
      (br $channels1))))

  ;; input_gradient(dy, x, dx, rows, c, mean, a, b, k):
  ;; dx[r, ch] = a[ch]·dy[r, ch] + b[ch]·(x[r, ch] − mean[ch]) + k[ch], in float32.
  (func (export "input_gradient")
    (param $dy i32) (param $x i32) (param $dx i32) (param $rows i32) (param $c i32)
    (param $mean i32) (param $a i32) (param $b i32) (param $k i32)
    (local $r i32) (local $q i32) (local $vecBytes i32) (local $rowBytes i32)
    (local $pg i32) (local $px i32) (local $po i32)
    (local.set $rowBytes (i32.shl (local.get $c) (i32.const 2)))
    (local.set $vecBytes (i32.and (local.get $rowBytes) (i32.const -16)))
    (local.set $r (i32.const 0))
    (block $doneRows (loop $rowLoop
      (br_if $doneRows (i32.ge_s (local.get $r) (local.get $rows)))
      (local.set $pg (i32.add (local.get $dy) (i32.mul (local.get $r) (local.get $rowBytes))))
      (local.set $px (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $rowBytes))))
      (local.set $po (i32.add (local.get $dx) (i32.mul (local.get $r) (local.get $rowBytes))))
      (local.set $q (i32.const 0))
      (block $doneVec (loop $vecLoop
        (br_if $doneVec (i32.ge_u (local.get $q) (local.get $vecBytes)))
        (v128.store (i32.add (local.get $po) (local.get $q))
          (f32x4.add
            (f32x4.add
              (f32x4.mul (v128.load (i32.add (local.get $a) (local.get $q))) (v128.load (i32.add (local.get $pg) (local.get $q))))
              (f32x4.mul
                (v128.load (i32.add (local.get $b) (local.get $q)))
                (f32x4.sub (v128.load (i32.add (local.get $px) (local.get $q))) (v128.load (i32.add (local.get $mean) (local.get $q))))))
            (v128.load (i32.add (local.get $k) (local.get $q)))))
        (local.set $q (i32.add (local.get $q) (i32.const 16)))
        (br $vecLoop)))
      (block $doneTail (loop $tailLoop
        (br_if $doneTail (i32.ge_u (local.get $q) (local.get $rowBytes)))
        (f32.store (i32.add (local.get $po) (local.get $q))
          (f32.add
            (f32.add
              (f32.mul (f32.load (i32.add (local.get $a) (local.get $q))) (f32.load (i32.add (local.get $pg) (local.get $q))))
              (f32.mul
                (f32.load (i32.add (local.get $b) (local.get $q)))
                (f32.sub (f32.load (i32.add (local.get $px) (local.get $q))) (f32.load (i32.add (local.get $mean) (local.get $q))))))
            (f32.load (i32.add (local.get $k) (local.get $q)))))
        (local.set $q (i32.add (local.get $q) (i32.const 4)))
        (br $tailLoop)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rowLoop)))))
