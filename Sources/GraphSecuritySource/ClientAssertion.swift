import COpenSSL
public import CollectorCore
public import Foundation

/// Signs OAuth2 client assertions (RFC 7523 JWTs, as Microsoft identity platform takes them) with
/// an app registration's certificate: header `{"alg":"RS256","typ":"JWT","x5t":…,"x5t#S256":…}`,
/// claims `aud` (the token endpoint), `iss` and `sub` (the client id), `jti`, `nbf`, `iat`, `exp`.
public struct ClientAssertionSigner: Sendable {
    let privateKeyPEM: String
    let password: Secret?
    /// SHA-1 and SHA-256 of the certificate's DER bytes.
    let sha1Thumbprint: [UInt8]
    let sha256Thumbprint: [UInt8]

    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// - Parameters: the certificate (PEM) and its RSA private key (PEM, optionally encrypted).
    public init(certificatePEM: String, privateKeyPEM: String, password: Secret? = nil) throws(Problem) {
        guard let der = Self.firstPEMBlock(certificatePEM, label: "CERTIFICATE") else {
            throw Problem(description: "no '-----BEGIN CERTIFICATE-----' block in the certificate file")
        }
        guard privateKeyPEM.contains("PRIVATE KEY-----") else {
            throw Problem(description: "no '-----BEGIN … PRIVATE KEY-----' block in the private key file")
        }
        var sha1 = [UInt8](repeating: 0, count: 20)
        var sha256 = [UInt8](repeating: 0, count: 32)
        der.withUnsafeBufferPointer { copenssl_sha1($0.baseAddress, der.count, &sha1) }
        der.withUnsafeBufferPointer { copenssl_sha256($0.baseAddress, der.count, &sha256) }
        self.privateKeyPEM = privateKeyPEM
        self.password = password
        self.sha1Thumbprint = sha1
        self.sha256Thumbprint = sha256
        // Fail now, not at the first sign-in, if the key cannot sign.
        _ = try sign(Array("probe".utf8))
    }

    /// The thumbprint Azure shows for the certificate (upper-case hex SHA-1).
    public var thumbprint: String { sha1Thumbprint.map { String(format: "%02X", $0) }.joined() }

    public func assertion(clientId: String, tokenURL: String, now: Date = Date()) throws(Problem) -> String {
        let header: JSONValue = [
            "alg": "RS256", "typ": "JWT", "x5t": .string(Self.base64URL(sha1Thumbprint)),
            "x5t#S256": .string(Self.base64URL(sha256Thumbprint)),
        ]
        let issued = Int(now.timeIntervalSince1970)
        let claims: JSONValue = [
            "aud": .string(tokenURL), "iss": .string(clientId), "sub": .string(clientId),
            "jti": .string(UUID().uuidString.lowercased()), "nbf": .number(String(issued)),
            "iat": .number(String(issued)), "exp": .number(String(issued + 600)),
        ]
        let input =
            Self.base64URL(Array(JSONWriter.string(header).utf8)) + "."
            + Self.base64URL(Array(JSONWriter.string(claims).utf8))
        return input + "." + Self.base64URL(try sign(Array(input.utf8)))
    }

    func sign(_ data: [UInt8]) throws(Problem) -> [UInt8] {
        var signature = [UInt8](repeating: 0, count: 1024)
        var length = signature.count
        let ok = data.withUnsafeBufferPointer { input in
            copenssl_sign_rs256(privateKeyPEM, password?.reveal(), input.baseAddress, input.count, &signature, &length)
        }
        guard ok == 1 else {
            var message = [CChar](repeating: 0, count: 256)
            copenssl_last_error(&message, message.count)
            let detail = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw Problem(
                description: "cannot sign with the private key (is it an RSA key, and the password right?)"
                    + (detail.isEmpty ? "" : ": \(detail)"))
        }
        return Array(signature.prefix(length))
    }

    static func firstPEMBlock(_ pem: String, label: String) -> [UInt8]? {
        guard let begin = pem.range(of: "-----BEGIN \(label)-----"),
            let end = pem.range(of: "-----END \(label)-----", range: begin.upperBound..<pem.endIndex)
        else { return nil }
        let body = pem[begin.upperBound..<end.lowerBound].filter { !$0.isWhitespace }
        return Data(base64Encoded: String(body)).map(Array.init)
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(
            of: "/", with: "_"
        )
        .replacingOccurrences(of: "=", with: "")
    }
}

/// Checks a client assertion against a certificate, as the identity platform does (used by the
/// built-in simulator): signature, audience, issuer/subject, expiry.
package enum ClientAssertionVerifier {
    package static func verify(
        _ jwt: String, certificatePEM: String, clientId: String, tokenURL: String, now: Date = Date()
    ) -> String? {
        let parts = jwt.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let signature = decode(parts[2]), let claimsBytes = decode(parts[1]),
            let claims = try? JSONParser.parse(bytes: claimsBytes)
        else { return "AADSTS50027: JWT token is invalid or malformed." }
        let input = Array((parts[0] + "." + parts[1]).utf8)
        let valid = input.withUnsafeBufferPointer { i in
            signature.withUnsafeBufferPointer { s in
                copenssl_verify_rs256(certificatePEM, i.baseAddress, i.count, s.baseAddress, s.count)
            }
        }
        guard valid == 1 else {
            return
                "AADSTS700027: The certificate with identifier used to sign the client assertion is not registered "
                + "on application, or the signature is invalid."
        }
        guard claims["aud"]?.stringValue == tokenURL else {
            return "AADSTS700212: No matching federated identity record found for presented assertion audience."
        }
        guard claims["iss"]?.stringValue == clientId, claims["sub"]?.stringValue == clientId else {
            return "AADSTS700021: Client assertion application identifier doesn't match 'client_id' parameter."
        }
        guard let exp = claims["exp"]?.intValue, Double(exp) > now.timeIntervalSince1970 else {
            return "AADSTS700024: Client assertion is not within its valid time range."
        }
        return nil
    }

    static func decode(_ s: String) -> [UInt8]? {
        var b = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b.count % 4 != 0 { b += "=" }
        return Data(base64Encoded: b).map(Array.init)
    }
}
