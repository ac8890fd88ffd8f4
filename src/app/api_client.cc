#include "app/api_client.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "config/config.h"

namespace atrium::app {
namespace {

ErrorCode codeFromStatus(unsigned status) {
  switch (status) {
    case 400: return ErrorCode::kInvalidArgument;
    case 401: return ErrorCode::kUnauthorized;
    case 403: return ErrorCode::kForbidden;
    case 404: return ErrorCode::kNotFound;
    case 405: return ErrorCode::kMethodNotAllowed;
    case 409: return ErrorCode::kConflict;
    case 413: return ErrorCode::kPayloadTooLarge;
    case 429: return ErrorCode::kTooManyRequests;
    case 503: return ErrorCode::kUnavailable;
    default: return ErrorCode::kInternal;
  }
}

}  // namespace

Result<ApiClient> ApiClient::fromAddress(std::string_view address) {
  if (address.rfind("http://", 0) == 0) address.remove_prefix(7);
  while (!address.empty() && address.back() == '/') address.remove_suffix(1);
  auto listen = config::parseListenAddress(address);
  if (!listen) return Error::invalid(fmt::format("--server: {}", listen.error().message));
  return ApiClient(listen->host, listen->port);
}

std::string ApiClient::serverKey() const {
  return host_.find(':') != std::string::npos ? fmt::format("[{}]:{}", host_, port_) : fmt::format("{}:{}", host_, port_);
}

namespace {

std::filesystem::path tokenFile() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  std::filesystem::path dir;
  if (xdg != nullptr && *xdg != '\0') {
    dir = xdg;
  } else {
    const char* home = std::getenv("HOME");
    dir = std::filesystem::path(home != nullptr && *home != '\0' ? home : "/root") / ".config";
  }
  return dir / "atrium" / "tokens.json";
}

nlohmann::json readTokens() {
  std::ifstream in(tokenFile());
  if (!in) return nlohmann::json::object();
  std::stringstream text;
  text << in.rdbuf();
  auto j = nlohmann::json::parse(text.str(), nullptr, false);
  return j.is_object() ? j : nlohmann::json::object();
}

}  // namespace

std::optional<std::string> ApiClient::tokenFor(const std::string& server_key) {
  if (const char* env = std::getenv("ATRIUM_TOKEN"); env != nullptr && *env != '\0') return std::string(env);
  auto tokens = readTokens();
  if (tokens.contains(server_key) && tokens[server_key].is_string()) return tokens[server_key].get<std::string>();
  return std::nullopt;
}

Status ApiClient::keepToken(const std::string& server_key, const std::string& token) {
  auto tokens = readTokens();
  if (token.empty()) {
    tokens.erase(server_key);
  } else {
    tokens[server_key] = token;
  }
  const auto path = tokenFile();
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  std::filesystem::permissions(path.parent_path(), std::filesystem::perms::owner_all, ec);
  const auto temp = path.string() + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Error::unavailable(fmt::format("cannot write {}: {}", temp, std::strerror(errno)));
  const std::string text = tokens.dump(2) + "\n";
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::fchmod(fd, 0600);
  ::close(fd);
  if (!written) return Error::unavailable("cannot write " + temp);
  std::filesystem::rename(temp, path, ec);
  if (ec) return Error::unavailable(fmt::format("cannot replace {}: {}", path.string(), ec.message()));
  return okStatus();
}

Result<nlohmann::json> ApiClient::call(std::string_view method, std::string_view target, std::string_view body) {
  net::Headers headers;
  if (!token_.empty()) headers.emplace_back("Authorization", "Bearer " + token_);
  auto response = http_.request(method, host_, port_, target, body, headers);
  if (!response) {
    return Error::unavailable(fmt::format("cannot reach the Atrium server at {}:{}: {}", host_, port_,
                                          response.error().message));
  }
  nlohmann::json j = nullptr;
  if (!response->body.empty()) {
    j = nlohmann::json::parse(response->body, nullptr, false);
    if (j.is_discarded()) {
      return Error::internal(fmt::format("the server at {}:{} answered {} with a body that is not JSON",
                                         host_, port_, response->status));
    }
  }
  if (response->status >= 200 && response->status < 300) return j;
  if (response->status == 401 && token_.empty()) {
    return Error{ErrorCode::kUnauthorized,
                 "sign in first: atrium login --server " + serverKey() + " (or set ATRIUM_TOKEN to an API token)", {}};
  }
  Error e{codeFromStatus(response->status), fmt::format("the server answered {}", response->status), {}};
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    e.message = j["error"].value("message", e.message);
    e.field = j["error"].value("field", "");
  }
  return e;
}

std::string ApiClient::escape(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace atrium::app
