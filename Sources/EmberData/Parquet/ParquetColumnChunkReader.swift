// Reading one flat column chunk page by page: the optional dictionary page, then data pages
// (v1: levels and values compressed together; v2: levels stored uncompressed before the
// values), with definition levels for optional columns and PLAIN or dictionary-encoded values.

/// The values of one column chunk: the non-null values in order, and for an optional column
/// one flag per row saying whether it holds a value.
struct ColumnChunkValues<T> {
    var values: [T] = []
    var defined: [Bool]? = nil
}

/// Decodes one column chunk of a flat (non-nested) column.
struct ParquetColumnChunkReader {
    /// A page may declare at most this many values per byte of its uncompressed data (plus a
    /// floor for tiny pages), so that a few bytes of run-length data cannot ask for gigabytes.
    static let maxValuesPerByte = 4096
    static let minValueLimit = 65_536

    let bytes: [UInt8]
    let chunkRange: Range<Int>
    let meta: ColumnMetaData
    let isOptional: Bool
    let rowCount: Int

    func read<T: ParquetValue>(_ type: T.Type) throws -> ColumnChunkValues<T> {
        var result = ColumnChunkValues<T>()
        if isOptional { result.defined = [] }
        var dictionary: [T]?
        var position = chunkRange.lowerBound
        var valuesRead = 0
        while valuesRead < rowCount {
            guard position < chunkRange.upperBound else {
                throw ParquetDecodeError(.truncated, "the column chunk ends after \(valuesRead) of its \(rowCount) values")
            }
            var reader = ThriftCompactReader(bytes, start: position, end: chunkRange.upperBound)
            let header = try reader.readPageHeader()
            let bodyStart = reader.position
            guard Int(header.compressedSize) <= chunkRange.upperBound - bodyStart else {
                throw ParquetDecodeError(.truncated, "the page at byte \(position) declares \(header.compressedSize) bytes, "
                                         + "the column chunk has \(chunkRange.upperBound - bodyStart) left")
            }
            let body = bodyStart..<(bodyStart + Int(header.compressedSize))
            let pageStart = position
            position = body.upperBound
            do {
                switch header.type {
                case 2:
                    guard dictionary == nil else { throw ParquetDecodeError(.corruptPage, "a second dictionary page") }
                    dictionary = try readDictionaryPage(header, body, as: T.self)
                case 0, 3:
                    let remaining = rowCount - valuesRead
                    guard Int(header.numValues) <= remaining else {
                        throw ParquetDecodeError(.corruptPage, "the page holds \(header.numValues) values, the chunk has \(remaining) left")
                    }
                    let limit = max(Self.minValueLimit, Int(header.uncompressedSize) * Self.maxValuesPerByte)
                    guard Int(header.numValues) <= limit else {
                        throw ParquetDecodeError(.corruptPage, "the page declares \(header.numValues) values in \(header.uncompressedSize) bytes")
                    }
                    try readDataPage(header, body, dictionary: dictionary, into: &result)
                    valuesRead += Int(header.numValues)
                case 1:
                    continue   // an index page: nothing to read
                default:
                    throw ParquetDecodeError(.corruptMetadata, "unknown page type \(header.type)")
                }
            } catch let error as ParquetDecodeError {
                throw ParquetDecodeError(error.kind, "page at byte \(pageStart): \(error.detail)")
            }
        }
        return result
    }

    private func readDictionaryPage<T: ParquetValue>(_ header: PageHeader, _ body: Range<Int>, as type: T.Type) throws -> [T] {
        guard header.encoding == ParquetEncoding.plain.rawValue || header.encoding == ParquetEncoding.plainDictionary.rawValue else {
            throw ParquetDecodeError(.unsupported, "a dictionary page in \(ParquetEncoding.name(header.encoding)) (PLAIN is supported)")
        }
        let raw = try ParquetDecompression.decompress(bytes[body], codec: meta.codec, uncompressedSize: Int(header.uncompressedSize))
        return try ParquetPlain.decode(T.self, raw, 0..<raw.count, count: Int(header.numValues)).0
    }

    private func readDataPage<T: ParquetValue>(_ header: PageHeader, _ body: Range<Int>, dictionary: [T]?,
                                               into result: inout ColumnChunkValues<T>) throws {
        let count = Int(header.numValues)
        let page: [UInt8]
        var valuesStart: Int
        var levels: [UInt32]?
        if header.type == 0 {
            // v1: [repetition levels][definition levels][values], all compressed together.
            page = try ParquetDecompression.decompress(bytes[body], codec: meta.codec, uncompressedSize: Int(header.uncompressedSize))
            valuesStart = 0
            if isOptional {
                guard header.definitionLevelEncoding == ParquetEncoding.rle.rawValue else {
                    throw ParquetDecodeError(.unsupported, "definition levels in \(ParquetEncoding.name(header.definitionLevelEncoding)) (RLE is supported)")
                }
                guard page.count >= 4 else { throw ParquetDecodeError(.corruptPage, "the definition levels' length is truncated") }
                let length = Int(page[0]) | Int(page[1]) << 8 | Int(page[2]) << 16 | Int(page[3]) << 24
                guard length <= page.count - 4 else {
                    throw ParquetDecodeError(.corruptPage, "definition levels of \(length) bytes in a page of \(page.count)")
                }
                levels = try RLEHybridDecoder.decode(page, 4..<(4 + length), bitWidth: 1, count: count)
                valuesStart = 4 + length
            }
        } else {
            // v2: [repetition levels][definition levels] uncompressed, then the (maybe compressed) values.
            let repLength = Int(header.repetitionLevelsByteLength), defLength = Int(header.definitionLevelsByteLength)
            guard repLength + defLength <= body.count, repLength + defLength <= Int(header.uncompressedSize) else {
                throw ParquetDecodeError(.corruptPage, "levels of \(repLength + defLength) bytes in a page of \(body.count)")
            }
            guard repLength == 0 else { throw ParquetDecodeError(.unsupported, "repetition levels in a flat column") }
            let levelRange = body.lowerBound..<(body.lowerBound + defLength)
            if isOptional {
                levels = try RLEHybridDecoder.decode(bytes, levelRange, bitWidth: 1, count: count)
            }
            let valueBytes = bytes[levelRange.upperBound..<body.upperBound]
            let valueSize = Int(header.uncompressedSize) - defLength
            if header.isCompressed {
                page = try ParquetDecompression.decompress(valueBytes, codec: meta.codec, uncompressedSize: valueSize)
            } else {
                guard valueBytes.count == valueSize else {
                    throw ParquetDecodeError(.corruptPage, "an uncompressed v2 page holds \(valueBytes.count) value bytes, its header says \(valueSize)")
                }
                page = Array(valueBytes)
            }
            valuesStart = 0
        }

        var nonNull = count
        if let levels {
            var defined: [Bool] = []
            defined.reserveCapacity(count)
            nonNull = 0
            for level in levels {
                guard level <= 1 else { throw ParquetDecodeError(.corruptPage, "a definition level of \(level) in a flat column") }
                defined.append(level == 1)
                nonNull += Int(level)
            }
            result.defined?.append(contentsOf: defined)
        }
        let valueRange = valuesStart..<page.count
        switch ParquetEncoding(rawValue: header.encoding) {
        case .plain:
            result.values.append(contentsOf: try ParquetPlain.decode(T.self, page, valueRange, count: nonNull).0)
        case .plainDictionary, .rleDictionary:
            guard let dictionary else { throw ParquetDecodeError(.corruptPage, "dictionary-encoded values without a dictionary page") }
            if nonNull == 0 { return }
            guard !valueRange.isEmpty else { throw ParquetDecodeError(.corruptPage, "dictionary indices are missing") }
            let bitWidth = Int(page[valueRange.lowerBound])
            let indices = try RLEHybridDecoder.decode(page, (valueRange.lowerBound + 1)..<valueRange.upperBound,
                                                      bitWidth: bitWidth, count: nonNull)
            result.values.reserveCapacity(result.values.count + nonNull)
            for index in indices {
                guard Int(index) < dictionary.count else {
                    throw ParquetDecodeError(.corruptPage, "dictionary index \(index) is out of range (the dictionary holds \(dictionary.count))")
                }
                result.values.append(dictionary[Int(index)])
            }
        case .rle where T.parquetPhysicalType == .boolean:
            // RLE booleans: a 4-byte length, then the hybrid encoding with bit width 1.
            guard valueRange.count >= 4 else { throw ParquetDecodeError(.corruptPage, "RLE boolean length is truncated") }
            let s = valueRange.lowerBound
            let length = Int(page[s]) | Int(page[s + 1]) << 8 | Int(page[s + 2]) << 16 | Int(page[s + 3]) << 24
            guard length <= valueRange.count - 4 else { throw ParquetDecodeError(.corruptPage, "RLE booleans of \(length) bytes") }
            let bits = try RLEHybridDecoder.decode(page, (s + 4)..<(s + 4 + length), bitWidth: 1, count: nonNull)
            result.values.append(contentsOf: bits.map { ($0 == 1) as! T })
        default:
            throw ParquetDecodeError(.unsupported, "values in the \(ParquetEncoding.name(header.encoding)) encoding "
                                     + "(PLAIN, PLAIN_DICTIONARY and RLE_DICTIONARY are supported)")
        }
    }
}
