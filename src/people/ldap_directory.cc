#include "people/ldap_directory.h"

#include <fmt/format.h>
#include <ldap.h>
#include <sys/time.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <optional>
#include <vector>

#include "common/log.h"

namespace atrium::people {
namespace {

struct LdapUnbind {
  void operator()(LDAP* ld) const { ldap_unbind_ext_s(ld, nullptr, nullptr); }
};
using LdapHandle = std::unique_ptr<LDAP, LdapUnbind>;

struct MessageFree {
  void operator()(LDAPMessage* m) const { ldap_msgfree(m); }
};
using Message = std::unique_ptr<LDAPMessage, MessageFree>;

struct ValuesFree {
  void operator()(berval** v) const { ldap_value_free_len(v); }
};
using Values = std::unique_ptr<berval*, ValuesFree>;

// What one entry says about its user.
struct Entry {
  std::string dn;
  std::string name;  // uid or sAMAccountName
  std::string display_name;
  std::string email;
  std::vector<std::string> member_of;
  std::string user_account_control;
  std::string locked_time;  // pwdAccountLockedTime
};

constexpr const char* kUserAttributes[] = {
    "uid",      "sAMAccountName",     "displayName",          "cn",   "mail",
    "memberOf", "userAccountControl", "pwdAccountLockedTime", nullptr};

timeval toTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

// The server's own words about the last failure, when it said any.
std::string diagnostic(LDAP* ld, int rc) {
  std::string out = ldap_err2string(rc);
  char* msg = nullptr;
  if (ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &msg) == LDAP_OPT_SUCCESS &&
      msg != nullptr) {
    if (*msg != '\0' && std::string_view(msg) != "(unknown error code)")
      out += fmt::format(" ({})", msg);
    ldap_memfree(msg);
  }
  return out;
}

// Failures that mean the directory is not there, as opposed to an answer from it.
bool unreachable(int rc) {
  return rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT || rc == LDAP_CONNECT_ERROR ||
         rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY || rc == LDAP_TIMELIMIT_EXCEEDED ||
         rc == LDAP_LOCAL_ERROR;
}

std::vector<std::string> values(LDAP* ld, LDAPMessage* entry, const char* attribute) {
  std::vector<std::string> out;
  Values v(ldap_get_values_len(ld, entry, attribute));
  if (!v) return out;
  for (berval** p = v.get(); *p != nullptr; ++p) out.emplace_back((*p)->bv_val, (*p)->bv_len);
  return out;
}

std::string first(LDAP* ld, LDAPMessage* entry, const char* attribute) {
  auto all = values(ld, entry, attribute);
  return all.empty() ? std::string() : all.front();
}

Entry readEntry(LDAP* ld, LDAPMessage* entry) {
  Entry e;
  if (char* dn = ldap_get_dn(ld, entry); dn != nullptr) {
    e.dn = dn;
    ldap_memfree(dn);
  }
  e.name = first(ld, entry, "uid");
  if (e.name.empty()) e.name = first(ld, entry, "sAMAccountName");
  e.display_name = first(ld, entry, "displayName");
  if (e.display_name.empty()) e.display_name = first(ld, entry, "cn");
  e.email = first(ld, entry, "mail");
  e.member_of = values(ld, entry, "memberOf");
  e.user_account_control = first(ld, entry, "userAccountControl");
  e.locked_time = first(ld, entry, "pwdAccountLockedTime");
  return e;
}

// Why the entry may not sign in, or nullopt.
std::optional<std::string> disabledReason(const Entry& e) {
  if (accountDisabled(e.user_account_control)) {
    return fmt::format("the account {} is disabled (userAccountControl {})", e.dn,
                       e.user_account_control);
  }
  if (!e.locked_time.empty())
    return fmt::format("the account {} is locked (pwdAccountLockedTime {})", e.dn, e.locked_time);
  return std::nullopt;
}

Error unauthorized(std::string why) { return Error{ErrorCode::kUnauthorized, std::move(why), {}}; }

bool sameText(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

class Session {
 public:
  explicit Session(const LdapSettings& s) : s_(s), timeout_(toTimeval(s.timeout)) {}

  // Connects (lazily: libldap connects on the first operation), with StartTLS when configured.
  Status open() {
    LDAP* raw = nullptr;
    int rc = ldap_initialize(&raw, s_.url.c_str());
    if (rc != LDAP_SUCCESS)
      return Error::unavailable(fmt::format("{}: {}", s_.url, ldap_err2string(rc)));
    ld_.reset(raw);
    int version = LDAP_VERSION3;
    if (ldap_set_option(ld(), LDAP_OPT_PROTOCOL_VERSION, &version) != LDAP_OPT_SUCCESS ||
        ldap_set_option(ld(), LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS ||
        ldap_set_option(ld(), LDAP_OPT_NETWORK_TIMEOUT, &timeout_) != LDAP_OPT_SUCCESS ||
        ldap_set_option(ld(), LDAP_OPT_TIMEOUT, &timeout_) != LDAP_OPT_SUCCESS ||
        // Without it libldap connects and runs the TLS handshake on a blocking socket with no
        // timeout: an ldaps:// server that accepts and never answers would hold the call forever.
        ldap_set_option(ld(), LDAP_OPT_CONNECT_ASYNC, LDAP_OPT_ON) != LDAP_OPT_SUCCESS) {
      return Error::unavailable(fmt::format("{}: cannot set the connection's options", s_.url));
    }
    if (tls()) {
      // This handle's own TLS context: certificates verified, against the configured CAs.
      int demand = LDAP_OPT_X_TLS_DEMAND;
      int new_context = 0;
      if (ldap_set_option(ld(), LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) != LDAP_OPT_SUCCESS ||
          (!s_.ca_file.empty() && ldap_set_option(ld(), LDAP_OPT_X_TLS_CACERTFILE,
                                                  s_.ca_file.c_str()) != LDAP_OPT_SUCCESS) ||
          ldap_set_option(ld(), LDAP_OPT_X_TLS_NEWCTX, &new_context) != LDAP_OPT_SUCCESS) {
        return Error::unavailable(
            fmt::format("{}: cannot set up TLS (CA file {})", s_.url,
                        s_.ca_file.empty() ? "the system's" : s_.ca_file.string()));
      }
    }
    if (s_.start_tls) {
      rc = ldap_start_tls_s(ld(), nullptr, nullptr);
      if (rc != LDAP_SUCCESS)
        return Error::unavailable(
            fmt::format("{}: StartTLS failed: {}", s_.url, diagnostic(ld(), rc)));
    }
    return {};
  }

  int bind(const std::string& dn, std::string_view password) {
    berval cred{static_cast<ber_len_t>(password.size()), const_cast<char*>(password.data())};
    return ldap_sasl_bind_s(ld(), dn.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr, nullptr, nullptr);
  }

  // rc and the result (which may hold entries even when rc is a size-limit error).
  std::pair<int, Message> search(const std::string& base, int scope, const std::string& filter,
                                 const char* const* attrs, int size_limit) {
    LDAPMessage* raw = nullptr;
    timeval tv = timeout_;
    int rc = ldap_search_ext_s(ld(), base.c_str(), scope, filter.c_str(), const_cast<char**>(attrs),
                               0, nullptr, nullptr, &tv, size_limit, &raw);
    return {rc, Message(raw)};
  }

  // What went wrong, in the server's words, with a hint when TLS is the likely cause.
  std::string why(int rc) const {
    std::string out = diagnostic(ld(), rc);
    if (tls() && (rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR)) {
      out += fmt::format(
          "; if the server is up, its certificate may not verify (CA file {}, and the certificate "
          "must name the host of {})",
          s_.ca_file.empty() ? "the system's" : s_.ca_file.string(), s_.url);
    }
    return out;
  }

  bool tls() const { return s_.start_tls || s_.url.rfind("ldaps://", 0) == 0; }
  LDAP* ld() const { return ld_.get(); }

 private:
  const LdapSettings& s_;
  timeval timeout_;
  LdapHandle ld_;
};

}  // namespace

std::string escapeFilterValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '*':
        out += "\\2a";
        break;
      case '(':
        out += "\\28";
        break;
      case ')':
        out += "\\29";
        break;
      case '\\':
        out += "\\5c";
        break;
      case '\0':
        out += "\\00";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string userFilter(std::string_view filter, std::string_view name) {
  const std::string escaped = escapeFilterValue(name);
  std::string out;
  constexpr std::string_view kPlaceholder = "{name}";
  std::size_t at = 0;
  while (true) {
    auto next = filter.find(kPlaceholder, at);
    out += filter.substr(at, next == std::string_view::npos ? std::string_view::npos : next - at);
    if (next == std::string_view::npos) break;
    out += escaped;
    at = next + kPlaceholder.size();
  }
  return out;
}

bool accountDisabled(std::string_view user_account_control) {
  if (user_account_control.empty()) return false;
  std::int64_t flags = 0;
  auto [ptr, ec] =
      std::from_chars(user_account_control.data(),
                      user_account_control.data() + user_account_control.size(), flags);
  if (ec != std::errc() || ptr != user_account_control.data() + user_account_control.size())
    return false;
  return (flags & 0x2) != 0;
}

LdapDirectory::LdapDirectory(LdapSettings settings) : settings_(std::move(settings)) {}

std::string LdapDirectory::describe() const {
  std::string out = fmt::format("{}, base {}", settings_.url, settings_.base_dn);
  if (settings_.start_tls) out += ", StartTLS";
  out += settings_.bind_dn.empty() ? ", anonymous search"
                                   : fmt::format(", search as {}", settings_.bind_dn);
  return out;
}

Result<DirectoryUser> LdapDirectory::authenticate(std::string_view name,
                                                  std::string_view password) {
  // An empty password is an unauthenticated bind (RFC 4513 5.1.2), which servers accept: it
  // would sign anyone in under any name.
  if (name.empty()) return unauthorized("an empty user name");
  if (password.empty()) return unauthorized("an empty password");
  if (name.find('\0') != std::string_view::npos)
    return unauthorized("a user name with a NUL character");

  Session session(settings_);
  ATRIUM_TRY(session.open());
  LDAP* ld = session.ld();

  if (!settings_.bind_dn.empty()) {
    int rc = session.bind(settings_.bind_dn, settings_.bind_password);
    if (rc != LDAP_SUCCESS) {
      return Error::unavailable(fmt::format("{}: the search account {} cannot bind: {}",
                                            settings_.url, settings_.bind_dn, session.why(rc)));
    }
  }

  const std::string filter = userFilter(settings_.user_filter, name);
  auto [rc, found] =
      session.search(settings_.base_dn, LDAP_SCOPE_SUBTREE, filter, kUserAttributes, 2);
  if (rc == LDAP_SIZELIMIT_EXCEEDED) {
    return unauthorized(
        fmt::format("more than one entry under {} matches {}", settings_.base_dn, filter));
  }
  if (rc != LDAP_SUCCESS) {
    return Error::unavailable(fmt::format("{}: searching {} for {} failed: {}", settings_.url,
                                          settings_.base_dn, filter, session.why(rc)));
  }
  const int count = ldap_count_entries(ld, found.get());
  if (count == 0)
    return unauthorized(fmt::format("no entry under {} matches {}", settings_.base_dn, filter));
  if (count > 1)
    return unauthorized(
        fmt::format("{} entries under {} match {}", count, settings_.base_dn, filter));
  Entry entry = readEntry(ld, ldap_first_entry(ld, found.get()));
  if (entry.dn.empty())
    return Error::unavailable(
        fmt::format("{}: the entry matching {} has no DN", settings_.url, filter));
  if (auto why = disabledReason(entry)) return unauthorized(*why);

  rc = session.bind(entry.dn, password);
  if (rc != LDAP_SUCCESS) {
    std::string why =
        fmt::format("{} cannot bind as {}: {}", settings_.url, entry.dn, session.why(rc));
    if (unreachable(rc)) return Error::unavailable(why);
    return unauthorized(why);  // a wrong password, or an account the server refuses
  }

  // Read the entry again as the user: some directories show a user more of itself than anonymous.
  {
    auto [own_rc, own] =
        session.search(entry.dn, LDAP_SCOPE_BASE, "(objectClass=*)", kUserAttributes, 1);
    if (own_rc == LDAP_SUCCESS) {
      if (LDAPMessage* e = ldap_first_entry(ld, own.get()); e != nullptr) {
        Entry again = readEntry(ld, e);
        if (auto why = disabledReason(again)) return unauthorized(*why);
        if (again.name.empty()) again.name = entry.name;
        if (again.dn.empty()) again.dn = entry.dn;
        entry = std::move(again);
      }
    } else if (unreachable(own_rc)) {
      return Error::unavailable(
          fmt::format("{}: reading {} failed: {}", settings_.url, entry.dn, session.why(own_rc)));
    }
  }

  DirectoryUser user;
  user.name = entry.name.empty() ? std::string(name) : entry.name;
  user.dn = entry.dn;
  user.display_name = entry.display_name;
  user.email = entry.email;
  user.groups = entry.member_of;

  // Groups that list the user themselves (servers without memberOf, POSIX groups, unique members).
  const std::string dn = escapeFilterValue(user.dn);
  const std::string uid = escapeFilterValue(user.name);
  const std::string groups_filter =
      "(|(&(objectClass=groupOfNames)(member=" + dn + "))" +            // by DN
      "(&(objectClass=groupOfUniqueNames)(uniqueMember=" + dn + "))" +  // by DN
      "(&(objectClass=group)(member=" + dn + "))" +                     // AD, by DN
      "(&(objectClass=posixGroup)(memberUid=" + uid + ")))";            // by uid
  constexpr const char* kGroupAttributes[] = {"cn", nullptr};
  auto [groups_rc, groups] =
      session.search(settings_.base_dn, LDAP_SCOPE_SUBTREE, groups_filter, kGroupAttributes, 0);
  if (groups_rc == LDAP_SUCCESS || groups_rc == LDAP_SIZELIMIT_EXCEEDED) {
    for (LDAPMessage* g = ldap_first_entry(ld, groups.get()); g != nullptr;
         g = ldap_next_entry(ld, g)) {
      char* raw = ldap_get_dn(ld, g);
      if (raw == nullptr) continue;
      std::string group_dn(raw);
      ldap_memfree(raw);
      bool known = std::any_of(user.groups.begin(), user.groups.end(),
                               [&](const std::string& x) { return sameText(x, group_dn); });
      if (!known) user.groups.push_back(std::move(group_dn));
    }
  } else if (unreachable(groups_rc)) {
    return Error::unavailable(fmt::format("{}: searching the groups of {} failed: {}",
                                          settings_.url, user.dn, session.why(groups_rc)));
  } else {
    log::warn("directory.group_search_failed",
              {{"directory", describe()}, {"user", user.dn}, {"detail", session.why(groups_rc)}});
  }
  return user;
}

Result<std::unique_ptr<Directory>> makeDirectory(const config::Config::Identity& identity) {
  if (identity.source == "database") return std::unique_ptr<Directory>();
  LdapSettings s;
  s.url = identity.source;
  s.base_dn = identity.base_dn;
  s.user_filter = identity.user_filter;
  s.bind_dn = identity.bind_dn;
  s.start_tls = identity.start_tls;
  s.ca_file = identity.ca_file;
  s.timeout = identity.timeout;
  if (!identity.bind_password_file.empty()) {
    std::ifstream in(identity.bind_password_file);
    if (!in || !std::getline(in, s.bind_password)) {
      return Error::invalid(
          fmt::format("cannot read identity.bind_password_file {}: it must exist and hold the "
                      "search account's password on its first line",
                      identity.bind_password_file.string()),
          "identity.bind_password_file");
    }
    if (!s.bind_password.empty() && s.bind_password.back() == '\r') s.bind_password.pop_back();
    if (s.bind_password.empty()) {
      return Error::invalid(
          fmt::format("identity.bind_password_file {} is empty; an empty password would bind "
                      "unauthenticated",
                      identity.bind_password_file.string()),
          "identity.bind_password_file");
    }
  } else if (!identity.bind_dn.empty()) {
    return Error::invalid(
        "identity.bind_dn is set without identity.bind_password_file; an empty password would bind "
        "unauthenticated",
        "identity.bind_password_file");
  }
  return std::unique_ptr<Directory>(std::make_unique<LdapDirectory>(std::move(s)));
}

}  // namespace atrium::people
