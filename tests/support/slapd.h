// A real OpenLDAP slapd (Debian's /usr/sbin/slapd) for tests: a slapd.conf of its own in a fresh
// temporary directory, the mdb backend, the memberof overlay (groupOfNames members get memberOf)
// and the ppolicy overlay (an entry with pwdAccountLockedTime cannot bind), listening on a free
// loopback port. A small schema gives entries Active Directory's sAMAccountName and
// userAccountControl (objectClass atriumTestAdAccount). Entries are loaded with ldapadd as the root
// DN. It can be stopped, started again on the same port with the same data, or paused (SIGSTOP: a
// directory that accepts connections and never answers). With `tls`, a throw-away CA signs a
// certificate for 127.0.0.1 and slapd also listens for ldaps:// and takes StartTLS. Waits are
// deadlines on the server answering, never sleeps.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "common/result.h"
#include "support/process.h"

namespace atrium::testing {

class Slapd {
 public:
  static constexpr const char* kBaseDn = "dc=example,dc=com";
  static constexpr const char* kRootDn = "cn=admin,dc=example,dc=com";
  static constexpr const char* kRootPassword = "slapd-root-secret";

  // Writes the configuration, starts slapd and adds the base entries (dc=example,dc=com,
  // ou=People, ou=Groups and the default password policy).
  static Result<std::unique_ptr<Slapd>> start(
      bool tls = false, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  Slapd(const Slapd&) = delete;
  Slapd& operator=(const Slapd&) = delete;
  ~Slapd();

  std::string url() const;               // ldap://127.0.0.1:PORT
  std::string ldapsUrl() const;          // ldaps://127.0.0.1:TLS_PORT (with tls)
  std::filesystem::path caFile() const;  // the CA that signed slapd's certificate (with tls)
  std::uint16_t port() const { return port_; }

  Status add(const std::string& ldif);     // ldapadd as the root DN
  Status modify(const std::string& ldif);  // ldapmodify as the root DN

  Status stop();        // SIGTERM and wait: the port refuses connections
  Status startAgain();  // the same port and data
  void pause();         // SIGSTOP: connections are accepted but nothing answers
  void resume();        // SIGCONT
  bool running() const { return child_ != nullptr; }

  std::string logText() const;

 private:
  Slapd() = default;
  Status launch(std::chrono::milliseconds timeout);
  Status ldapTool(const std::string& tool, const std::string& ldif);

  std::unique_ptr<TempDir> dir_;
  std::uint16_t port_ = 0;
  std::uint16_t tls_port_ = 0;
  std::unique_ptr<ChildProcess> child_;
  std::string tool_log_;
};

}  // namespace atrium::testing
