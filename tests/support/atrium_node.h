// A real `atrium serve` process for tests: its own data dir and config file, a free port,
// started and stopped like an administrator would, and an HTTP client aimed at it.
#pragma once

#include <csignal>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/http_client.h"
#include "support/process.h"

namespace atrium::testing {

class AtriumNode {
 public:
  // `init` creates this local administrator; http() signs in as it by itself.
  static constexpr const char* kAdminUser = "admin";
  static constexpr const char* kAdminPassword = "atrium-test-admin-password";
  // The password addUser gives its users.
  static constexpr const char* kUserPassword = "atrium-test-user-password";

  struct Options {
    std::string database_url;          // empty: SQLite in the data dir
    std::string name = "node-1";
    std::string extra_config;          // appended TOML, e.g. "[api]\nmax_body_bytes = 2048\n"
    std::string api_section_extra;     // lines added inside [api]
    std::string database_section_extra;  // lines added inside [database]
    // Lines inside [polling]. Off by default: test systems carry documentation addresses
    // (192.0.2.x, example.com) that must never be contacted; tests of polling point systems at a
    // simulator on loopback and turn it on.
    std::string polling_section = "enabled = false\n";
    // Extra environment of `atrium serve` ("NAME=value"), e.g. ATRIUM_TEST_CLOCK_OFFSET_MS=5000.
    std::vector<std::string> env;
    // Put before `atrium serve ...`, e.g. {"/usr/bin/prlimit", "--nofile=256:256", "--"} (an
    // absolute path; it must exec the command, so that the process is the node itself).
    std::vector<std::string> command_prefix;
    // When set, the node is reached over HTTPS and its certificate is checked against this PEM
    // (the test's own CA or self-signed certificate); api.tls_* go in api_section_extra.
    std::string tls_trusted_pem;
  };

  // Writes the config under `dir` (created if needed); does not start anything.
  AtriumNode(std::filesystem::path dir, Options options);
  AtriumNode(const AtriumNode&) = delete;
  AtriumNode& operator=(const AtriumNode&) = delete;
  ~AtriumNode();

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path configPath() const { return dir_ / "atrium.toml"; }
  std::filesystem::path dataDir() const { return dir_ / "data"; }
  std::uint16_t port() const { return port_; }
  // The UDP port on 127.0.0.1 where the node receives SNMP traps.
  std::uint16_t snmpPort() const { return snmp_port_; }

  // Runs `atrium ARGS...` to completion (the config is not added: pass it when wanted).
  RunResult run(const std::vector<std::string>& args,
                std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;
  // `atrium init --config <config>`.
  RunResult init(const std::string& installation_name = "Test installation") const;

  // Starts `atrium serve` and waits until /healthz answers. On failure (the process exited, or
  // it did not answer in time) the error message carries the process output.
  Status start(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Waits until the process is ready (/readyz 200).
  bool waitReady(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Sends a signal and waits for the exit; the exit code, or nullopt if it did not exit in time.
  std::optional<int> stop(int sig = SIGTERM, std::chrono::milliseconds timeout = std::chrono::seconds(15));
  ChildProcess* process() { return process_.get(); }
  // The environment the next start() gives `atrium serve` (replaces Options::env).
  void setEnv(std::vector<std::string> env) { options_.env = std::move(env); }
  // The certificate http() trusts from now on (HTTPS); empty: plain HTTP.
  void setTlsTrustedPem(std::string pem) { options_.tls_trusted_pem = std::move(pem); }
  std::string log() const;

  // A request signed in as the administrator (a session made on first use, and again after a
  // 401), unless `headers` carries its own Authorization or Cookie, or the target is outside
  // /api/v1 or is the sign-in itself.
  Result<net::HttpResponse> http(std::string_view method, std::string_view target,
                                 std::string_view body = {}, const net::Headers& headers = {}) const;
  // The same without signing in.
  Result<net::HttpResponse> anonymous(std::string_view method, std::string_view target,
                                      std::string_view body = {}, const net::Headers& headers = {}) const;
  // A request with `Authorization: Bearer <token>`.
  Result<net::HttpResponse> httpAs(const std::string& token, std::string_view method, std::string_view target,
                                   std::string_view body = {}, net::Headers headers = {}) const;
  // Signs in (POST /api/v1/sessions): the session token.
  Result<std::string> signIn(const std::string& user, const std::string& password) const;
  // A local user with kUserPassword in a group of its own holding `permissions` (names); its id.
  Result<std::string> addUser(const std::string& name, const std::vector<std::string>& permissions) const;
  // The administrator's token (signs in when there is none yet).
  Result<std::string> adminToken() const;
  // The JSON body of a response (null when empty or not JSON).
  static nlohmann::json json(const net::HttpResponse& response);

 private:
  std::filesystem::path dir_;
  Options options_;
  std::uint16_t port_;
  std::uint16_t snmp_port_;
  std::unique_ptr<ChildProcess> process_;
  mutable std::mutex token_mu_;
  mutable std::string admin_token_;
};

}  // namespace atrium::testing
