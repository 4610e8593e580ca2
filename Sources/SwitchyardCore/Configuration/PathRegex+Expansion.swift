extension PathRegex {
    /// The most atoms a pattern may stand for once its bounded repetitions
    /// are written out. glibc's regcomp copies a group once per repetition,
    /// so `(a{1000}){1000}` is a million nodes and `(a{32767}){32767}` takes
    /// every byte of memory it can get before it fails (seen: 4 GB and 11 s);
    /// no path needs a pattern near this size.
    public static let maximumExpandedSize = 10_000

    /// The reason given for a pattern over `maximumExpandedSize`.
    public static let tooLargeMessage = "it repeats too much: more than 10000 atoms once its {m,n} bounds are written out"

    /// An upper bound of the number of atoms regcomp builds for `pattern`
    /// (POSIX extended syntax): every alternative counted, `a{m,n}` as n
    /// copies of `a`, `a{m,}` as m + 1, `a+` as 2, `a*` and `a?` as 1, each
    /// applied to all the repetitions before it. Saturates just above
    /// `maximumExpandedSize`. Unbalanced or invalid syntax is counted as
    /// literal text; regcomp rejects it afterwards.
    public static func expandedSize(of pattern: String) -> Int {
        let cap = Self.maximumExpandedSize + 1
        func add(_ lhs: Int, _ rhs: Int) -> Int { min(cap, lhs + rhs) }
        func multiply(_ lhs: Int, _ rhs: Int) -> Int {
            let (product, overflow) = lhs.multipliedReportingOverflow(by: rhs)
            return overflow ? cap : min(cap, product)
        }
        struct Frame {
            var alternatives = 0
            var current = 0
            var last = 0
        }
        let bytes = Array(pattern.utf8)
        var stack = [Frame()]
        var index = 0
        func atom(_ size: Int) {
            stack[stack.count - 1].current = add(stack[stack.count - 1].current, size)
            stack[stack.count - 1].last = size
        }
        func repeatLast(times: Int) {
            let last = stack[stack.count - 1].last
            // `last` is already counted once.
            stack[stack.count - 1].current = add(stack[stack.count - 1].current, multiply(last, max(0, times - 1)))
            stack[stack.count - 1].last = multiply(last, times)
        }
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "("):
                stack.append(Frame())
            case UInt8(ascii: ")") where stack.count > 1:
                let frame = stack.removeLast()
                atom(add(frame.alternatives, frame.current))
            case UInt8(ascii: "|"):
                stack[stack.count - 1].alternatives = add(stack[stack.count - 1].alternatives, stack[stack.count - 1].current)
                stack[stack.count - 1].current = 0
                stack[stack.count - 1].last = 0
            case UInt8(ascii: "\\"):
                index += 1
                atom(1)
            case UInt8(ascii: "["):
                index = Self.endOfBracketExpression(bytes, from: index)
                atom(1)
            case UInt8(ascii: "+"):
                // regcomp writes `a+` as `aa*`: one more copy of what precedes.
                repeatLast(times: 2)
            case UInt8(ascii: "*"), UInt8(ascii: "?"):
                // A node over what precedes, no copy: the size stays, and a
                // following `+` or bound copies all of it (`a++*+` is 16 a's).
                break
            case UInt8(ascii: "{"):
                guard let (times, next) = Self.bound(bytes, from: index) else {
                    atom(1)
                    continue
                }
                index = next
                repeatLast(times: times)
            default:
                atom(1)
            }
        }
        var size = 0
        for frame in stack {
            size = add(size, add(frame.alternatives, frame.current))
        }
        return size
    }

    /// The reason given for a pattern with a back-reference.
    public static let backReferenceMessage = "back-references (\\1 to \\9) are not POSIX extended syntax, and matching them can take exponential time"

    /// True when `pattern` holds a back-reference `\1`...`\9` outside a
    /// bracket expression. glibc accepts them in extended syntax, and its
    /// matcher then backtracks: `(.*)(.*)(.*)\3\2\1x` did not finish in
    /// 20 s on a 100-byte path, a path any client chooses.
    public static func hasBackReference(_ pattern: String) -> Bool {
        let bytes = Array(pattern.utf8)
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"):
                if index + 1 < bytes.count, bytes[index + 1] >= UInt8(ascii: "1"), bytes[index + 1] <= UInt8(ascii: "9") {
                    return true
                }
                index += 2
            case UInt8(ascii: "["):
                index = Self.endOfBracketExpression(bytes, from: index + 1)
            default:
                index += 1
            }
        }
        return false
    }

    /// The reason given for a pattern with stacked repetition operators.
    public static let stackedRepetitionMessage = "a repetition of a repetition (such as a+* or a{2}{3}) is undefined in POSIX extended syntax; use a group: (a+)*"

    /// True when a repetition operator (`*`, `+`, `?` or a bound) directly
    /// follows another. POSIX leaves such patterns undefined, and glibc's
    /// compiler is slow on them (`)++++*++++++++`: 0.12 s for one pattern,
    /// found by the rule-matcher fuzz target).
    public static func hasStackedRepetition(_ pattern: String) -> Bool {
        let bytes = Array(pattern.utf8)
        var index = 0
        var afterRepetition = false
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"):
                if afterRepetition { return true }
                afterRepetition = true
                index += 1
            case UInt8(ascii: "{"):
                if let (_, next) = Self.bound(bytes, from: index + 1) {
                    if afterRepetition { return true }
                    afterRepetition = true
                    index = next
                } else {
                    afterRepetition = false
                    index += 1
                }
            case UInt8(ascii: "\\"):
                afterRepetition = false
                index += 2
            case UInt8(ascii: "["):
                afterRepetition = false
                index = Self.endOfBracketExpression(bytes, from: index + 1)
            default:
                afterRepetition = false
                index += 1
            }
        }
        return false
    }

    /// The index after the `]` closing a bracket expression whose `[` is
    /// just before `start` (`[]a]`, `[^]a]` and `[[:alpha:]]` included).
    private static func endOfBracketExpression(_ bytes: [UInt8], from start: Int) -> Int {
        var index = start
        if index < bytes.count, bytes[index] == UInt8(ascii: "^") { index += 1 }
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1 }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "]") { return index + 1 }
            if byte == UInt8(ascii: "["), index + 1 < bytes.count,
                [UInt8(ascii: ":"), UInt8(ascii: "."), UInt8(ascii: "=")].contains(bytes[index + 1])
            {
                let delimiter = bytes[index + 1]
                var close = index + 2
                while close + 1 < bytes.count, !(bytes[close] == delimiter && bytes[close + 1] == UInt8(ascii: "]")) {
                    close += 1
                }
                index = close + 2
                continue
            }
            index += 1
        }
        return bytes.count
    }

    /// A `{m}`, `{m,}` or `{m,n}` bound whose `{` is just before `start`:
    /// how many copies regcomp makes, and the index after the `}`.
    private static func bound(_ bytes: [UInt8], from start: Int) -> (Int, Int)? {
        var index = start
        func number() -> Int? {
            var value: Int?
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                value = min(1_000_000, (value ?? 0) * 10 + Int(bytes[index] - UInt8(ascii: "0")))
                index += 1
            }
            return value
        }
        let low = number()
        var high = low
        var open = false
        if index < bytes.count, bytes[index] == UInt8(ascii: ",") {
            index += 1
            high = number()
            open = high == nil
        }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "}"), low != nil || high != nil else { return nil }
        let copies = open ? (low ?? 0) + 1 : max(low ?? 0, high ?? 0)
        return (max(1, copies), index + 1)
    }
}
