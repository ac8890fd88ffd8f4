// The server side of TLS: a certificate and key pair read from PEM files, checked, and turned
// into an OpenSSL context (TLS 1.2 at least, OpenSSL's default ciphers). Errors name the
// configuration key and what is wrong, so that they can stop start-up as they are.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "common/result.h"

namespace atrium::net {

struct TlsFiles {
  std::string cert_file;  // PEM: the certificate, then any intermediates
  std::string key_file;   // PEM: the private key (unencrypted)
  // How the files are named to the administrator in errors.
  std::string cert_key_name = "api.tls_cert";
  std::string key_key_name = "api.tls_key";
};

struct ServerTls {
  std::shared_ptr<boost::asio::ssl::context> context;
  std::string fingerprint;  // SHA-256 of the certificate (DER), lowercase hex
};

// Reads and checks both files: readable, PEM, and the key matches the certificate.
Result<ServerTls> loadServerTls(const TlsFiles& files);

// SHA-256 of a PEM certificate's DER form, lowercase hex; empty when it is not one.
std::string certificateFingerprint(const std::string& pem);

}  // namespace atrium::net
