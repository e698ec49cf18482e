// Approximate and exact equality of whole tensors (isclose, allclose, equal).

extension Tensor {
    /// Elementwise `|self - other| <= atol + rtol * |other|` (NaNs equal only when
    /// `equalNaN`), as `torch.isclose`; a bool tensor.
    ///
    /// ```swift
    /// a.isclose(b, rtol: 1e-5, atol: 1e-8)
    /// ```
    public func isclose(_ other: Tensor, rtol: Double = 1e-5, atol: Double = 1e-8, equalNaN: Bool = false) -> Tensor {
        noGrad {
            let dtype = DType.promote(self.dtype, other.dtype)
            let compute = dtype.isFloatingPoint ? DType.float64 : dtype
            let a = self.to(compute), b = other.to(compute)
            if !compute.isFloatingPoint { return a.eq(b) }
            // As PyTorch: only a finite difference can be within tolerance (inf vs 1 is not close).
            let difference = (a - b).abs()
            let close = difference.le(b.abs() * rtol + atol).logicalAnd(isFinite(difference))
            let same = a.eq(b)   // covers equal infinities
            var result = close.logicalOr(same)
            if equalNaN { result = result.logicalOr(isNaN(a).logicalAnd(isNaN(b))) }
            return result
        }
    }

    /// True when every element is close to `other`'s (broadcasting), as `torch.allclose`.
    ///
    /// ```swift
    /// XCTAssertTrue(y.allclose(expected, atol: 1e-6))
    /// ```
    public func allclose(_ other: Tensor, rtol: Double = 1e-5, atol: Double = 1e-8, equalNaN: Bool = false) -> Bool {
        isclose(other, rtol: rtol, atol: atol, equalNaN: equalNaN).all().item(Bool.self)
    }

    /// True when both tensors have the same shape and the same elements (`torch.equal`).
    public func equal(_ other: Tensor) -> Bool {
        shape == other.shape && noGrad { self.eq(other).all().item(Bool.self) }
    }

    /// Number of elements (`numel()` in PyTorch; also `count`).
    public func numel() -> Int { count }

    /// Converts to float32 (`x.float()`).
    public func float() -> Tensor { to(.float32) }
    /// Converts to float64 (`x.double()`).
    public func double() -> Tensor { to(.float64) }
    /// Converts to float16 (`x.half()`).
    public func half() -> Tensor { to(.float16) }
    /// Converts to int64 (`x.long()`).
    public func long() -> Tensor { to(.int64) }
    /// Converts to int32 (`x.int()`).
    public func int() -> Tensor { to(.int32) }
    /// Converts to bool (`x.bool()`).
    public func bool() -> Tensor { to(.bool) }
}
