// The two OpenSSL operations the Graph source needs for certificate sign-in, wrapped so Swift
// sees plain functions: RS256 signing with a PEM private key, and the SHA-1 of a DER blob.
#ifndef GRAPH_COLLECTOR_COPENSSL_SHIM_H
#define GRAPH_COLLECTOR_COPENSSL_SHIM_H

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <string.h>

/// Signs `data` with RSASSA-PKCS1-v1Dot5 over SHA-256 (JWT "RS256"). `signature` must hold
/// `*signature_length` bytes (512 covers 4096-bit keys); on success it is set to the length used.
/// Returns 1 on success, 0 on failure (see copenssl_last_error).
static inline int copenssl_sign_rs256(const char *pem_key, const char *password,
                                      const unsigned char *data, size_t data_length,
                                      unsigned char *signature, size_t *signature_length) {
    int ok = 0;
    BIO *bio = BIO_new_mem_buf(pem_key, -1);
    if (bio == NULL) return 0;
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)password);
    BIO_free(bio);
    if (key == NULL) return 0;
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) { EVP_PKEY_free(key); return 0; }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx != NULL &&
        EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
        EVP_DigestSign(ctx, signature, signature_length, data, data_length) == 1) {
        ok = 1;
    }
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return ok;
}

/// Verifies an RS256 signature with the public key of a PEM certificate. Returns 1 if valid.
static inline int copenssl_verify_rs256(const char *pem_certificate,
                                        const unsigned char *data, size_t data_length,
                                        const unsigned char *signature, size_t signature_length) {
    int ok = 0;
    BIO *bio = BIO_new_mem_buf(pem_certificate, -1);
    if (bio == NULL) return 0;
    X509 *certificate = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (certificate == NULL) return 0;
    EVP_PKEY *key = X509_get_pubkey(certificate);
    X509_free(certificate);
    if (key == NULL) return 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx != NULL &&
        EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
        EVP_DigestVerify(ctx, signature, signature_length, data, data_length) == 1) {
        ok = 1;
    }
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return ok;
}

/// SHA-1 of `data` into `digest` (20 bytes): the certificate thumbprint (JWT "x5t").
static inline void copenssl_sha1(const unsigned char *data, size_t length, unsigned char *digest) {
    SHA1(data, length, digest);
}

/// SHA-256 of `data` into `digest` (32 bytes): the "x5t#S256" thumbprint.
static inline void copenssl_sha256(const unsigned char *data, size_t length, unsigned char *digest) {
    SHA256(data, length, digest);
}

/// The latest OpenSSL error as text (empty when none).
/// HMAC-SHA256 of `data` with `key`; `digest` must hold 32 bytes.
static inline void copenssl_hmac_sha256(const unsigned char *key, size_t key_length,
                                        const unsigned char *data, size_t length, unsigned char *digest) {
    unsigned int digest_length = 32;
    HMAC(EVP_sha256(), key, (int)key_length, data, length, digest, &digest_length);
}

static inline void copenssl_last_error(char *buffer, size_t length) {
    unsigned long code = ERR_get_error();
    if (code == 0) { if (length > 0) buffer[0] = 0; return; }
    ERR_error_string_n(code, buffer, length);
}

#endif
