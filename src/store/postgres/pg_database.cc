#include "store/postgres/pg_database.h"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "store/driver_util.h"
#include "store/postgres/pg_handles.h"

namespace atrium::store {
namespace {

void ignoreNotice(void*, const char* message) {
  log::debug("store.pg_notice", {{"message", trimMessage(message)}});
}

std::string toText(const Value& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) {
          return {};
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          return std::to_string(x);
        } else if constexpr (std::is_same_v<T, double>) {
          return fmt::format("{}", x);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return x;
        } else {
          return x ? "true" : "false";
        }
      },
      v);
}

class PgConnection final : public Connection {
 public:
  explicit PgConnection(PgConnPtr conn) : conn_(std::move(conn)) {
    PQsetNoticeProcessor(conn_.get(), ignoreNotice, nullptr);
  }

  Dialect dialect() const override { return Dialect::kPostgres; }

  Result<Rows> query(std::string_view sql, std::span<const Value> params) override {
    std::string text(sql);
    std::vector<std::string> storage;
    storage.reserve(params.size());
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const Value& v : params) {
      storage.push_back(toText(v));
      values.push_back(std::holds_alternative<std::nullptr_t>(v) ? nullptr
                                                                 : storage.back().c_str());
    }
    PgResultPtr res(PQexecParams(conn_.get(), text.c_str(), static_cast<int>(params.size()),
                                 nullptr, values.data(), nullptr, nullptr, 0));
    auto status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return failure(res.get());
    Rows rows;
    const int ncols = PQnfields(res.get());
    const int nrows = PQntuples(res.get());
    for (int c = 0; c < ncols; ++c) rows.columns.emplace_back(PQfname(res.get(), c));
    rows.cells.reserve(static_cast<std::size_t>(nrows));
    for (int r = 0; r < nrows; ++r) {
      auto& row = rows.cells.emplace_back();
      row.reserve(static_cast<std::size_t>(ncols));
      for (int c = 0; c < ncols; ++c) {
        if (PQgetisnull(res.get(), r, c)) {
          row.emplace_back(std::nullopt);
        } else {
          row.emplace_back(std::string(PQgetvalue(res.get(), r, c),
                                       static_cast<std::size_t>(PQgetlength(res.get(), r, c))));
        }
      }
    }
    const char* affected = PQcmdTuples(res.get());
    rows.affected = (affected && *affected) ? std::strtoll(affected, nullptr, 10) : 0;
    return rows;
  }

  Status execScript(std::string_view sql) override {
    std::string text(sql);
    PgResultPtr res(PQexec(conn_.get(), text.c_str()));
    auto status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return failure(res.get());
    return okStatus();
  }

  Status begin() override { return simple("BEGIN"); }
  Status commit() override { return simple("COMMIT"); }
  Status rollback() override { return simple("ROLLBACK"); }
  bool broken() const override { return broken_; }

 private:
  Status simple(const char* sql) {
    PgResultPtr res(PQexec(conn_.get(), sql));
    if (!res || PQresultStatus(res.get()) != PGRES_COMMAND_OK) return failure(res.get());
    return okStatus();
  }

  // Maps a failed command to the driver's error policy.
  Error failure(const PGresult* res) {
    std::string msg = trimMessage(res ? PQresultErrorMessage(res) : "");
    if (msg.empty()) msg = trimMessage(PQerrorMessage(conn_.get()));
    const char* state_c = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    std::string_view state = state_c ? state_c : "";
    if (PQstatus(conn_.get()) != CONNECTION_OK || state.starts_with("08") || state == "57P01" ||
        state == "57P02" || state == "57P03") {
      broken_ = true;
      return Error::unavailable("lost the connection to PostgreSQL: " + msg);
    }
    if (state == "23505") {
      const char* constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
      return Error::conflict(msg, constraint ? fieldFromConstraintName(constraint) : std::string());
    }
    if (state == "23503") {
      return Error::conflict(
          "the change refers to a row that does not exist or is still referenced (" + msg + ")");
    }
    if (state == "25006") {
      // The server we are connected to is (now) a replica: after a database failover the old
      // primary may come back as a standby. Drop the connection so the pool reconnects, and
      // target_session_attrs=read-write picks the new primary.
      broken_ = true;
      return Error{ErrorCode::kReadOnly, msg, {}};
    }
    return Error::internal("PostgreSQL: " + msg);
  }

  PgConnPtr conn_;
  bool broken_ = false;
};

class PgDatabase final : public Database {
 public:
  PgDatabase(std::vector<std::pair<std::string, std::string>> params, std::string display_url,
             DatabaseOptions options)
      : Database(Dialect::kPostgres, std::move(display_url), std::move(options)),
        params_(std::move(params)) {}
  ~PgDatabase() override { closeIdle(); }

 protected:
  Result<std::unique_ptr<Connection>> connect() override {
    std::vector<const char*> keys;
    std::vector<const char*> values;
    for (const auto& [k, v] : params_) {
      keys.push_back(k.c_str());
      values.push_back(v.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    PgConnPtr conn(PQconnectdbParams(keys.data(), values.data(), 0));
    if (!conn) return Error::unavailable("cannot allocate a PostgreSQL connection");
    if (PQstatus(conn.get()) != CONNECTION_OK) {
      return Error::unavailable(fmt::format("cannot connect to PostgreSQL at {}: {}", displayUrl(),
                                            trimMessage(PQerrorMessage(conn.get()))));
    }
    return std::unique_ptr<Connection>(std::make_unique<PgConnection>(std::move(conn)));
  }

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

// Replaces the value of "password=..." in a '&'- or space-separated list.
std::string redactPasswordParam(std::string s, char separator) {
  std::size_t pos = 0;
  while ((pos = s.find("password=", pos)) != std::string::npos) {
    bool at_start = pos == 0 || s[pos - 1] == separator || s[pos - 1] == '?' || s[pos - 1] == ' ';
    pos += 9;
    if (!at_start) continue;
    std::size_t end = pos;
    if (separator == ' ' && end < s.size() && s[end] == '\'') {
      ++end;
      while (end < s.size() && s[end] != '\'') end += (s[end] == '\\') ? 2 : 1;
      end = std::min(end + 1, s.size());
    } else {
      while (end < s.size() && s[end] != separator && s[end] != ' ') ++end;
    }
    s.replace(pos, end - pos, "***");
    pos += 3;
  }
  return s;
}

}  // namespace

std::string redactPostgresUrl(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return redactPasswordParam(url, ' ');
  std::string out = url;
  std::size_t auth_start = scheme_end + 3;
  std::size_t auth_end = out.find_first_of("/?", auth_start);
  if (auth_end == std::string::npos) auth_end = out.size();
  std::size_t at = out.rfind('@', auth_end);
  if (at != std::string::npos && at >= auth_start) {
    std::size_t colon = out.find(':', auth_start);
    if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  return redactPasswordParam(out, '&');
}

Result<std::unique_ptr<Database>> openPostgresDatabase(const std::string& url,
                                                       DatabaseOptions options) {
  char* err = nullptr;
  PgConninfoPtr parsed(PQconninfoParse(url.c_str(), &err));
  if (!parsed) {
    std::string why = err ? trimMessage(err) : "out of memory";
    if (err) PQfreemem(err);
    return Error::invalid(
        fmt::format("bad PostgreSQL connection string {}: {}", redactPostgresUrl(url), why));
  }
  std::vector<std::pair<std::string, std::string>> params;
  bool has_timeout = false;
  bool has_app = false;
  bool has_keepalives = false;
  bool has_user_timeout = false;
  for (const PQconninfoOption* o = parsed.get(); o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    std::string_view key = o->keyword;
    has_timeout = has_timeout || key == "connect_timeout";
    has_app = has_app || key == "application_name";
    has_keepalives = has_keepalives || key.starts_with("keepalives");
    has_user_timeout = has_user_timeout || key == "tcp_user_timeout";
    params.emplace_back(o->keyword, o->val);
  }
  if (!has_timeout) {
    // libpq counts whole seconds (and at least 2).
    auto secs = (options.connect_timeout.count() + 999) / 1000;
    params.emplace_back("connect_timeout", std::to_string(std::max<long long>(1, secs)));
  }
  // A database host that stops answering (power loss, network partition) must not hold a query
  // for the kernel's default TCP timeouts (minutes): keepalives find an idle dead peer in about
  // 11 s, and tcp_user_timeout bounds how long sent data may stay unacknowledged. The connection
  // is then broken and the pool reconnects, to the new primary after a failover.
  if (!has_keepalives) {
    params.emplace_back("keepalives", "1");
    params.emplace_back("keepalives_idle", "5");
    params.emplace_back("keepalives_interval", "2");
    params.emplace_back("keepalives_count", "3");
  }
  if (!has_user_timeout) params.emplace_back("tcp_user_timeout", "10000");
  if (!has_app && !options.application_name.empty()) {
    params.emplace_back("application_name", options.application_name);
  }
  return std::unique_ptr<Database>(
      new PgDatabase(std::move(params), redactPostgresUrl(url), std::move(options)));
}

}  // namespace atrium::store
