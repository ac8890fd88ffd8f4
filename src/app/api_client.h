// The CLI's view of a running server's API: JSON in, JSON out, and the API's error shape turned
// back into an Error with the server's message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "net/http_client.h"

namespace atrium::app {

// Signs the CLI in: the token in ATRIUM_TOKEN (a session or personal API token), else the one
// `atrium login` kept for this server in the user's config dir
// ($XDG_CONFIG_HOME/atrium/tokens.json or ~/.config/atrium/tokens.json, mode 0600).
class ApiClient {
 public:
  ApiClient(std::string host, std::uint16_t port, std::string token = {})
      : host_(std::move(host)), port_(port), token_(std::move(token)) {}
  // "host:port" or "[v6]:port"; an http:// prefix is allowed.
  static Result<ApiClient> fromAddress(std::string_view address);

  // "host:port" of the server, the key of its kept token.
  std::string serverKey() const;
  void setToken(std::string token) { token_ = std::move(token); }
  // The token from ATRIUM_TOKEN or the user's token file, if any.
  static std::optional<std::string> tokenFor(const std::string& server_key);
  // Keeps (or, with an empty token, forgets) the token for this server in the user's token file.
  static Status keepToken(const std::string& server_key, const std::string& token);

  // Sends the request; a 2xx answer's JSON body (null for 204), else the API's error.
  Result<nlohmann::json> call(std::string_view method, std::string_view target, std::string_view body = {});

  // Percent-encodes a path segment or query value.
  static std::string escape(std::string_view text);

 private:
  std::string host_;
  std::uint16_t port_;
  std::string token_;
  net::HttpClient http_;
};

}  // namespace atrium::app
