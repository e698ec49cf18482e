// `Tensor.description` matches PyTorch's `repr` character for character. Every expected
// string below was produced by PyTorch 2.13's repr (`repr(torch.tensor(...))`) for the same
// values, with default print options (precision 4, threshold 1000, edge items 3, line width 80).
import XCTest
@testable import Ember

final class PrintingTests: XCTestCase {
    /// 2000 ones with 1e10 hidden in the summarised middle: PyTorch chooses the format from
    /// the shown elements only.
    private func bigHidden() -> Tensor {
        let x = Tensor.ones([2000])
        x[1000] = Tensor(Float(1e10))
        return x
    }

    func testWholeFloatsPrintWithTrailingDot() {
        XCTAssertEqual((Tensor([1, 2, 3] as [Float])).description, "tensor([1., 2., 3.])")
    }

    func testFractionalFloatsRoundToFourDecimals() {
        XCTAssertEqual((Tensor([0.12345, 2.0] as [Float])).description, "tensor([0.1235, 2.0000])")
    }

    func testNegativeAndWiderValuesAreRightAligned() {
        XCTAssertEqual((Tensor([-1.5, 0.25, 10.125] as [Float])).description, "tensor([-1.5000,  0.2500, 10.1250])")
    }

    func testMatrixColumnsAlignAcrossRows() {
        XCTAssertEqual((Tensor([1.5, -20.25, 3, 400] as [Float], shape: [2, 2])).description, """
            tensor([[  1.5000, -20.2500],
                    [  3.0000, 400.0000]])
            """)
    }

    func testMatrixOfWholeNumbersAligns() {
        XCTAssertEqual((Tensor([1, -20, 300, 4] as [Float], shape: [2, 2])).description, """
            tensor([[  1., -20.],
                    [300.,   4.]])
            """)
    }

    func testThreeDimensionalBlocksAreSeparatedByBlankLine() {
        XCTAssertEqual((Tensor.arange(8, dtype: .float32).reshape([2, 2, 2])).description, """
            tensor([[[0., 1.],
                     [2., 3.]],

                    [[4., 5.],
                     [6., 7.]]])
            """)
    }

    func testThreeDimensionalIntegersAlign() {
        XCTAssertEqual((Tensor.arange(12).reshape([2, 3, 2])).description, """
            tensor([[[ 0,  1],
                     [ 2,  3],
                     [ 4,  5]],

                    [[ 6,  7],
                     [ 8,  9],
                     [10, 11]]])
            """)
    }

    func testNonContiguousTensorPrintsLogicalOrder() {
        XCTAssertEqual((Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3]).t()).description, """
            tensor([[1., 4.],
                    [2., 5.],
                    [3., 6.]])
            """)
    }

    func testTinyValueSwitchesToScientific() {
        XCTAssertEqual((Tensor([1e-5, 1] as [Float])).description, "tensor([1.0000e-05, 1.0000e+00])")
    }

    func testNegativeTinyValueInScientificIsAligned() {
        XCTAssertEqual((Tensor([-1e-5, 1] as [Float])).description, "tensor([-1.0000e-05,  1.0000e+00])")
    }

    func testHugeValueSwitchesToScientific() {
        XCTAssertEqual((Tensor([1e9, 1] as [Float])).description, "tensor([1.0000e+09, 1.0000e+00])")
    }

    func testHugeWholeNumbersUseScientific() {
        XCTAssertEqual((Tensor([1e10, 2e10] as [Float])).description, "tensor([1.0000e+10, 2.0000e+10])")
    }

    func testLargeRatioSwitchesToScientific() {
        XCTAssertEqual((Tensor([0.01, 100] as [Float])).description, "tensor([1.0000e-02, 1.0000e+02])")
    }

    func testWholeNumbersWithLargeRatioUseScientific() {
        XCTAssertEqual((Tensor([1, 2000] as [Float])).description, "tensor([1.0000e+00, 2.0000e+03])")
    }

    func testRatioBelowThousandStaysFixed() {
        XCTAssertEqual((Tensor([0.1, 99] as [Float])).description, "tensor([ 0.1000, 99.0000])")
    }

    func testWholeNumberAtOneHundredMillionStaysInteger() {
        XCTAssertEqual((Tensor([1e8, 2e5] as [Float])).description, "tensor([100000000.,    200000.])")
    }

    func testInt64HasNoDtypeSuffix() {
        XCTAssertEqual((Tensor([1, -2, 300])).description, "tensor([  1,  -2, 300])")
    }

    func testInt32ShowsDtype() {
        XCTAssertEqual((Tensor([1, 2] as [Int32])).description, "tensor([1, 2], dtype=torch.int32)")
    }

    func testFloat64ShowsDtype() {
        XCTAssertEqual((Tensor([1.5, 2.0])).description, "tensor([1.5000, 2.0000], dtype=torch.float64)")
    }

    func testFloat16ShowsDtype() {
        XCTAssertEqual((Tensor([1.5, 2.0], dtype: .float16)).description, "tensor([1.5000, 2.0000], dtype=torch.float16)")
    }

    func testBFloat16ShowsDtypeAndRoundedValue() {
        XCTAssertEqual((Tensor([3.14159, 2.0], dtype: .bfloat16)).description, "tensor([3.1406, 2.0000], dtype=torch.bfloat16)")
    }

    func testUInt8ShowsDtype() {
        XCTAssertEqual((Tensor([0, 255] as [UInt8])).description, "tensor([  0, 255], dtype=torch.uint8)")
    }

    func testBoolPrintsTrueAndFalse() {
        XCTAssertEqual((Tensor([true, false, true])).description, "tensor([ True, False,  True])")
    }

    func testBoolMatrixAligns() {
        XCTAssertEqual((Tensor([true, false, false, true], shape: [2, 2])).description, """
            tensor([[ True, False],
                    [False,  True]])
            """)
    }

    func testZeroDimensionalFraction() {
        XCTAssertEqual((Tensor(Float(3.5))).description, "tensor(3.5000)")
    }

    func testZeroDimensionalWholeNumber() {
        XCTAssertEqual((Tensor(Float(2))).description, "tensor(2.)")
    }

    func testZeroDimensionalZero() {
        XCTAssertEqual((Tensor(Float(0))).description, "tensor(0.)")
    }

    func testZeroDimensionalInteger() {
        XCTAssertEqual((Tensor(7)).description, "tensor(7)")
    }

    func testZeroDimensionalFloat64() {
        XCTAssertEqual((Tensor(0.25)).description, "tensor(0.2500, dtype=torch.float64)")
    }

    func testEmptyFloat() {
        XCTAssertEqual((Tensor([] as [Float])).description, "tensor([])")
    }

    func testEmptyInt64ShowsDtype() {
        XCTAssertEqual((Tensor([] as [Int])).description, "tensor([], dtype=torch.int64)")
    }

    func testEmptyBoolShowsDtype() {
        XCTAssertEqual((Tensor([] as [Bool])).description, "tensor([], dtype=torch.bool)")
    }

    func testEmptyMatrixShowsSize() {
        XCTAssertEqual((Tensor.zeros([2, 0])).description, "tensor([], size=(2, 0))")
    }

    func testEmptyFloat64ShowsDtype() {
        XCTAssertEqual((Tensor.zeros([0], dtype: .float64)).description, "tensor([], dtype=torch.float64)")
    }

    func testNaNAndInfinityAmongWholeNumbers() {
        XCTAssertEqual((Tensor([.nan, .infinity, -.infinity, 1] as [Float])).description, "tensor([nan, inf, -inf, 1.])")
    }

    func testNaNAndInfinityAmongFractions() {
        XCTAssertEqual((Tensor([.nan, 1.5, -.infinity] as [Float])).description, "tensor([   nan, 1.5000,   -inf])")
    }

    func testNaNAndInfinityInScientific() {
        XCTAssertEqual((Tensor([.nan, 1e-5, .infinity] as [Float])).description, "tensor([       nan, 1.0000e-05,        inf])")
    }

    func testAllNaN() {
        XCTAssertEqual((Tensor([.nan, .nan] as [Float])).description, "tensor([nan, nan])")
    }

    func testAllZeros() {
        XCTAssertEqual((Tensor.zeros([3])).description, "tensor([0., 0., 0.])")
    }

    func testNegativeZeroAmongWholeNumbers() {
        XCTAssertEqual((Tensor([-0.0, 1] as [Float])).description, "tensor([-0., 1.])")
    }

    func testNegativeZeroAmongFractions() {
        XCTAssertEqual((Tensor([-0.0, 0.5] as [Float])).description, "tensor([-0.0000, 0.5000])")
    }

    func testSummarisedVectorShowsThreeEdgeItems() {
        XCTAssertEqual((Tensor.arange(2000, dtype: .float32)).description, """
            tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,
                    1.9990e+03])
            """)
    }

    func testSummarisedIntegerVector() {
        XCTAssertEqual((Tensor.arange(1001)).description, "tensor([   0,    1,    2,  ...,  998,  999, 1000])")
    }

    func testSummarisedMatrix() {
        XCTAssertEqual((Tensor.arange(2000, dtype: .float32).reshape([40, 50])).description, """
            tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 4.7000e+01, 4.8000e+01,
                     4.9000e+01],
                    [5.0000e+01, 5.1000e+01, 5.2000e+01,  ..., 9.7000e+01, 9.8000e+01,
                     9.9000e+01],
                    [1.0000e+02, 1.0100e+02, 1.0200e+02,  ..., 1.4700e+02, 1.4800e+02,
                     1.4900e+02],
                    ...,
                    [1.8500e+03, 1.8510e+03, 1.8520e+03,  ..., 1.8970e+03, 1.8980e+03,
                     1.8990e+03],
                    [1.9000e+03, 1.9010e+03, 1.9020e+03,  ..., 1.9470e+03, 1.9480e+03,
                     1.9490e+03],
                    [1.9500e+03, 1.9510e+03, 1.9520e+03,  ..., 1.9970e+03, 1.9980e+03,
                     1.9990e+03]])
            """)
    }

    func testSummarisedFormatIgnoresHiddenElements() {
        XCTAssertEqual((bigHidden()).description, "tensor([1., 1., 1.,  ..., 1., 1., 1.])")
    }

    func testLongRowWrapsAtEightyColumns() {
        XCTAssertEqual((Tensor.arange(30, dtype: .float32) / 7).description, """
            tensor([0.0000, 0.1429, 0.2857, 0.4286, 0.5714, 0.7143, 0.8571, 1.0000, 1.1429,
                    1.2857, 1.4286, 1.5714, 1.7143, 1.8571, 2.0000, 2.1429, 2.2857, 2.4286,
                    2.5714, 2.7143, 2.8571, 3.0000, 3.1429, 3.2857, 3.4286, 3.5714, 3.7143,
                    3.8571, 4.0000, 4.1429])
            """)
    }

    func testLongIntegerRowWraps() {
        XCTAssertEqual((Tensor.arange(100)).description, """
            tensor([ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17,
                    18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35,
                    36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53,
                    54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71,
                    72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89,
                    90, 91, 92, 93, 94, 95, 96, 97, 98, 99])
            """)
    }

    func testLongMatrixRowsWrapWithDeeperIndent() {
        XCTAssertEqual(((Tensor.arange(40, dtype: .float32) / 3).reshape([2, 20])).description, """
            tensor([[ 0.0000,  0.3333,  0.6667,  1.0000,  1.3333,  1.6667,  2.0000,  2.3333,
                      2.6667,  3.0000,  3.3333,  3.6667,  4.0000,  4.3333,  4.6667,  5.0000,
                      5.3333,  5.6667,  6.0000,  6.3333],
                    [ 6.6667,  7.0000,  7.3333,  7.6667,  8.0000,  8.3333,  8.6667,  9.0000,
                      9.3333,  9.6667, 10.0000, 10.3333, 10.6667, 11.0000, 11.3333, 11.6667,
                     12.0000, 12.3333, 12.6667, 13.0000]])
            """)
    }

    func testLongRowDtypeSuffixStaysOnLastLineWhenItFits() {
        XCTAssertEqual((Tensor.arange(30, dtype: .float64) / 7).description, """
            tensor([0.0000, 0.1429, 0.2857, 0.4286, 0.5714, 0.7143, 0.8571, 1.0000, 1.1429,
                    1.2857, 1.4286, 1.5714, 1.7143, 1.8571, 2.0000, 2.1429, 2.2857, 2.4286,
                    2.5714, 2.7143, 2.8571, 3.0000, 3.1429, 3.2857, 3.4286, 3.5714, 3.7143,
                    3.8571, 4.0000, 4.1429], dtype=torch.float64)
            """)
    }

    func testSuffixMovesToNewLineWhenLastLineIsFull() {
        XCTAssertEqual((Tensor.arange(27, dtype: .float64) / 7).description, """
            tensor([0.0000, 0.1429, 0.2857, 0.4286, 0.5714, 0.7143, 0.8571, 1.0000, 1.1429,
                    1.2857, 1.4286, 1.5714, 1.7143, 1.8571, 2.0000, 2.1429, 2.2857, 2.4286,
                    2.5714, 2.7143, 2.8571, 3.0000, 3.1429, 3.2857, 3.4286, 3.5714, 3.7143],
                   dtype=torch.float64)
            """)
    }

    func testRequiresGradLeaf() {
        XCTAssertEqual((Tensor([1, 2] as [Float], requiresGrad: true)).description, "tensor([1., 2.], requires_grad=True)")
    }

    func testResultShowsGradFn() {
        XCTAssertEqual((Tensor([1, 2] as [Float], requiresGrad: true) * 2).description, "tensor([2., 4.], grad_fn=<MulBackward0>)")
    }

    func testDtypeComesBeforeRequiresGrad() {
        XCTAssertEqual((Tensor([1.5], requiresGrad: true)).description, "tensor([1.5000], dtype=torch.float64, requires_grad=True)")
    }

    func testInt64ExtremesPrintExactly() {
        XCTAssertEqual((Tensor([Int.max, Int.min] as [Int])).description, "tensor([ 9223372036854775807, -9223372036854775808])")
    }

    func testFloat64UsesSamePrecision() {
        XCTAssertEqual((Tensor([1.0 / 3, 2])).description, "tensor([0.3333, 2.0000], dtype=torch.float64)")
    }

    func testFourDimensionalUsesTwoBlankLines() {
        XCTAssertEqual((Tensor.arange(16).reshape([2, 2, 2, 2])).description, """
            tensor([[[[ 0,  1],
                      [ 2,  3]],

                     [[ 4,  5],
                      [ 6,  7]]],


                    [[[ 8,  9],
                      [10, 11]],

                     [[12, 13],
                      [14, 15]]]])
            """)
    }

    func testZeroDimensionalBool() {
        XCTAssertEqual((Tensor(true)).description, "tensor(True)")
    }

    func testZeroDimensionalUInt8ShowsDtype() {
        XCTAssertEqual((Tensor(UInt8(9))).description, "tensor(9, dtype=torch.uint8)")
    }

    func testBFloat16InScientific() {
        XCTAssertEqual((Tensor([1e-6, 1], dtype: .bfloat16)).description, "tensor([9.9838e-07, 1.0000e+00], dtype=torch.bfloat16)")
    }

    func testSummarisedThreeDimensional() {
        XCTAssertEqual((Tensor.arange(1200).reshape([12, 10, 10])).description, """
            tensor([[[   0,    1,    2,  ...,    7,    8,    9],
                     [  10,   11,   12,  ...,   17,   18,   19],
                     [  20,   21,   22,  ...,   27,   28,   29],
                     ...,
                     [  70,   71,   72,  ...,   77,   78,   79],
                     [  80,   81,   82,  ...,   87,   88,   89],
                     [  90,   91,   92,  ...,   97,   98,   99]],

                    [[ 100,  101,  102,  ...,  107,  108,  109],
                     [ 110,  111,  112,  ...,  117,  118,  119],
                     [ 120,  121,  122,  ...,  127,  128,  129],
                     ...,
                     [ 170,  171,  172,  ...,  177,  178,  179],
                     [ 180,  181,  182,  ...,  187,  188,  189],
                     [ 190,  191,  192,  ...,  197,  198,  199]],

                    [[ 200,  201,  202,  ...,  207,  208,  209],
                     [ 210,  211,  212,  ...,  217,  218,  219],
                     [ 220,  221,  222,  ...,  227,  228,  229],
                     ...,
                     [ 270,  271,  272,  ...,  277,  278,  279],
                     [ 280,  281,  282,  ...,  287,  288,  289],
                     [ 290,  291,  292,  ...,  297,  298,  299]],

                    ...,

                    [[ 900,  901,  902,  ...,  907,  908,  909],
                     [ 910,  911,  912,  ...,  917,  918,  919],
                     [ 920,  921,  922,  ...,  927,  928,  929],
                     ...,
                     [ 970,  971,  972,  ...,  977,  978,  979],
                     [ 980,  981,  982,  ...,  987,  988,  989],
                     [ 990,  991,  992,  ...,  997,  998,  999]],

                    [[1000, 1001, 1002,  ..., 1007, 1008, 1009],
                     [1010, 1011, 1012,  ..., 1017, 1018, 1019],
                     [1020, 1021, 1022,  ..., 1027, 1028, 1029],
                     ...,
                     [1070, 1071, 1072,  ..., 1077, 1078, 1079],
                     [1080, 1081, 1082,  ..., 1087, 1088, 1089],
                     [1090, 1091, 1092,  ..., 1097, 1098, 1099]],

                    [[1100, 1101, 1102,  ..., 1107, 1108, 1109],
                     [1110, 1111, 1112,  ..., 1117, 1118, 1119],
                     [1120, 1121, 1122,  ..., 1127, 1128, 1129],
                     ...,
                     [1170, 1171, 1172,  ..., 1177, 1178, 1179],
                     [1180, 1181, 1182,  ..., 1187, 1188, 1189],
                     [1190, 1191, 1192,  ..., 1197, 1198, 1199]]])
            """)
    }

    func testGradFnSuffixWrapsAfterFullLastLine() {
        XCTAssertEqual((Tensor.arange(27, dtype: .float32).requiresGrad(true) / 7).description, """
            tensor([0.0000, 0.1429, 0.2857, 0.4286, 0.5714, 0.7143, 0.8571, 1.0000, 1.1429,
                    1.2857, 1.4286, 1.5714, 1.7143, 1.8571, 2.0000, 2.1429, 2.2857, 2.4286,
                    2.5714, 2.7143, 2.8571, 3.0000, 3.1429, 3.2857, 3.4286, 3.5714, 3.7143],
                   grad_fn=<DivBackward0>)
            """)
    }

    // A tensor of exactly `threshold` (1000) elements is printed in full, wrapped 14 per line.
    func testThresholdIsExclusive() {
        let text = Tensor.arange(1000).description
        XCTAssertFalse(text.contains("..."))
        XCTAssertTrue(text.hasPrefix("tensor([  0,   1,   2,   3,   4,   5,   6,   7,   8,   9,  10,  11,  12,  13,\n         14,"))
        XCTAssertTrue(text.hasSuffix("\n        994, 995, 996, 997, 998, 999])"))
        XCTAssertEqual(text.split(separator: "\n").count, 72)
    }

    // torch.set_printoptions(precision=2): tensor([0.12, 2.00])
    func testPrecisionOptionChangesDigits() {
        let saved = PrintOptions.precision
        PrintOptions.precision = 2
        defer { PrintOptions.precision = saved }
        XCTAssertEqual(Tensor([0.12345, 2.0] as [Float]).description, "tensor([0.12, 2.00])")
        XCTAssertEqual(Tensor([1e-5, 1] as [Float]).description, "tensor([1.00e-05, 1.00e+00])")
    }

    // torch.set_printoptions(linewidth=30): tensor([0, 1, 2, 3, 4, 5, 6,\n        7, 8, 9])
    func testLineWidthOptionChangesWrapping() {
        let saved = PrintOptions.lineWidth
        PrintOptions.lineWidth = 30
        defer { PrintOptions.lineWidth = saved }
        XCTAssertEqual(Tensor.arange(10).description, "tensor([0, 1, 2, 3, 4, 5, 6,\n        7, 8, 9])")
    }

    // torch.set_printoptions(threshold=5, edgeitems=2): tensor([0, 1,  ..., 8, 9])
    func testThresholdAndEdgeItemsOptions() {
        let (threshold, edge) = (PrintOptions.threshold, PrintOptions.edgeItems)
        PrintOptions.threshold = 5
        PrintOptions.edgeItems = 2
        defer { PrintOptions.threshold = threshold; PrintOptions.edgeItems = edge }
        XCTAssertEqual(Tensor.arange(10).description, "tensor([0, 1,  ..., 8, 9])")
    }

    func testPrintMatchesDescription() {
        var printed = ""
        print(Tensor([1, 2] as [Float]), terminator: "", to: &printed)
        XCTAssertEqual(printed, "tensor([1., 2.])")
    }
}
