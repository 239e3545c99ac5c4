import Foundation

/// A throwaway certificate authority and a server certificate it signed, made with the openssl
/// tool: `ca.pem`, `server.pem` and `server.key` in a directory.
public enum TestCertificates {
    /// `serverNames`: the subjectAltName entries, like `DNS:localhost` or `DNS:localhost,IP:127.0.0.1`.
    public static func make(in directory: String, serverNames: String) throws {
        try RsyslogReceiver.shell(
            """
            set -e
            cd '\(directory)'
            openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca 2>/dev/null
            openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null
            printf 'subjectAltName=\(serverNames)\\n' > server.ext
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \\
              -extfile server.ext 2>/dev/null
            """)
    }
}

extension TestCertificates {
    /// A client certificate from the CA ``make(in:serverNames:)`` made: `client.pem`, `client.key`.
    public static func makeClient(in directory: String, name: String = "graph-collector") throws {
        try RsyslogReceiver.shell(
            """
            set -e
            cd '\(directory)'
            openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=\(name) 2>/dev/null
            printf 'extendedKeyUsage=clientAuth\\n' > client.ext
            openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 \\
              -extfile client.ext 2>/dev/null
            """)
    }
}
