import CollectorCore

extension YAMLConfigDecoder {
    /// Unknown keys under `prefix` (a path text), as located errors.
    package func unknownKeys(under prefix: String, context: String) -> [ConfigError] {
        var errors: [ConfigError] = []
        for (pathText, mapping) in mappings.sorted(by: { $0.key < $1.key })
        where pathText == prefix || pathText.hasPrefix(prefix + ".") || pathText.hasPrefix(prefix + "[")
            || prefix.isEmpty
        {
            if openMappings.contains(pathText) { continue }
            let known = requestedKeys[pathText] ?? []
            for (keyNode, _) in mapping {
                guard let key = keyNode.scalar?.string, !known.contains(key) else { continue }
                if errors.count >= ConfigErrors.listed {
                    // Past the listed number only a count is kept: no suggestions computed.
                    errors.append(
                        ConfigError(
                            file: self.file(of: pathText), line: keyNode.mark?.line, column: keyNode.mark?.column,
                            context: context, message: "unknown key"))
                    continue
                }
                let candidates = known.filter { !$0.hasSuffix("_file") || !known.contains(String($0.dropLast(5))) }
                var message = "unknown key '\(key)'"
                if !pathText.isEmpty && pathText != prefix { message += " in \(pathText)" }
                if let suggestion = Suggestion.nearest(to: key, in: candidates) {
                    message += "; did you mean '\(suggestion)'?"
                } else if !candidates.isEmpty {
                    message += " (known keys: \(candidates.sorted().joined(separator: ", ")))"
                }
                let mark = keyNode.mark
                errors.append(
                    ConfigError(
                        file: self.file(of: pathText), line: mark?.line, column: mark?.column, context: context,
                        message: message))
            }
        }
        return errors
    }

}
