// The CLI's view of a running server's API: JSON in, JSON out, and the API's error shape turned
// back into an Error with the server's message.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "net/http_client.h"

namespace atrium::app {

class ApiClient {
 public:
  ApiClient(std::string host, std::uint16_t port, std::string actor)
      : host_(std::move(host)), port_(port), actor_(std::move(actor)) {}
  // "host:port" or "[v6]:port"; an http:// prefix is allowed.
  static Result<ApiClient> fromAddress(std::string_view address, std::string actor);

  // Sends the request; a 2xx answer's JSON body (null for 204), else the API's error.
  Result<nlohmann::json> call(std::string_view method, std::string_view target, std::string_view body = {});

  // Percent-encodes a path segment or query value.
  static std::string escape(std::string_view text);

 private:
  std::string host_;
  std::uint16_t port_;
  std::string actor_;
  net::HttpClient http_;
};

}  // namespace atrium::app
