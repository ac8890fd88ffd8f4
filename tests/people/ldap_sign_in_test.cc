// The directory as a real OpenLDAP slapd: LdapDirectory on its own, then SignIn end to end with
// a PeopleStore on a real database (SQLite and PostgreSQL).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "people/ldap_directory.h"
#include "people/password.h"
#include "people/sign_in.h"
#include "store/database.h"
#include "store/people_store.h"
#include "store/store.h"
#include "support/backends.h"
#include "support/process.h"
#include "support/slapd.h"

namespace atrium::people {
namespace {

using testing::Slapd;
using namespace std::chrono_literals;

// libldap writes to its sockets with write(2): a connection the server closed raises SIGPIPE,
// which the node ignores (app/node.cc) and so must this binary.
const bool kSigpipeIgnored = [] { return std::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();

const std::string kPeople = std::string("ou=People,") + Slapd::kBaseDn;
const std::string kGroups = std::string("ou=Groups,") + Slapd::kBaseDn;

std::string person(const std::string& uid, const std::string& display, const std::string& password,
                   const std::string& extra = "") {
  return fmt::format(
      "dn: uid={0},{1}\nobjectClass: inetOrgPerson\nuid: {0}\ncn: {2}\nsn: {0}\ndisplayName: {2}\n"
      "mail: {0}@example.com\nuserPassword: {3}\n{4}\n",
      uid, kPeople, display, password, extra);
}

std::string adAccount(const std::string& name, const std::string& user_account_control) {
  return fmt::format(
      "dn: cn={0},{1}\nobjectClass: inetOrgPerson\nobjectClass: atriumTestAdAccount\ncn: {0}\nsn: "
      "{0}\n"
      "sAMAccountName: {0}\nuserAccountControl: {2}\nuserPassword: {0}-password-1\n\n",
      name, kPeople, user_account_control);
}

std::string userDn(const std::string& uid) { return "uid=" + uid + "," + kPeople; }

// alice: in "Video Admins" (groupOfNames: memberOf from the overlay) and in "ops" (posixGroup,
// memberUid: only the group search finds it); bob: locked (pwdAccountLockedTime); carol: in
// "Bookers" (groupOfUniqueNames); dave and erin for tests that change the directory; grace and
// frank are Active Directory-like accounts (sAMAccountName, no uid), frank disabled by
// userAccountControl 514.
std::string directoryEntries() {
  return person("alice", "Alice Liddell", "alice-password-1") +
         person("bob", "Bob Locked", "bob-password-1", "pwdAccountLockedTime: 000001010000Z\n") +
         person("carol", "Carol Booker", "carol-password-1") +
         person("dave", "Dave Moved", "dave-password-1") +
         person("erin", "Erin Disabled", "erin-password-1") + adAccount("grace", "512") +
         adAccount("frank", "514") +
         fmt::format(
             "dn: cn=Video Admins,{0}\nobjectClass: groupOfNames\ncn: Video Admins\nmember: "
             "{1}\nmember: {2}\n\n",
             kGroups, userDn("alice"), userDn("dave")) +
         fmt::format(
             "dn: cn=ops,{0}\nobjectClass: posixGroup\ncn: ops\ngidNumber: 5000\nmemberUid: "
             "alice\n\n",
             kGroups) +
         fmt::format(
             "dn: cn=Bookers,{0}\nobjectClass: groupOfUniqueNames\ncn: Bookers\nuniqueMember: "
             "{1}\n\n",
             kGroups, userDn("carol"));
}

LdapSettings settingsFor(const Slapd& slapd, std::chrono::milliseconds timeout = 2000ms) {
  LdapSettings s;
  s.url = slapd.url();
  s.base_dn = Slapd::kBaseDn;
  s.timeout = timeout;
  return s;
}

std::unique_ptr<Slapd> startSlapd(bool tls = false) {
  auto started = Slapd::start(tls);
  if (!started.ok()) {
    ADD_FAILURE() << "slapd could not be started: " << started.error().message;
    return nullptr;
  }
  auto loaded = (*started)->add(directoryEntries());
  if (!loaded.ok()) {
    ADD_FAILURE() << loaded.error().message;
    return nullptr;
  }
  return std::move(started).value();
}

// One slapd for the tests that do not stop it.
Slapd* sharedSlapd() {
  static std::unique_ptr<Slapd> shared = startSlapd();
  return shared.get();
}

bool hasGroup(const std::vector<std::string>& groups, const std::string& dn) {
  return std::find(groups.begin(), groups.end(), dn) != groups.end();
}

// ---- unit level: the pure helpers ----

TEST(LdapFilterTest, EscapesWhatRfc4515Requires) {
  EXPECT_EQ(escapeFilterValue("alice"), "alice");
  EXPECT_EQ(escapeFilterValue("*"), "\\2a");
  EXPECT_EQ(escapeFilterValue("alice)(uid=*"), "alice\\29\\28uid=\\2a");
  EXPECT_EQ(escapeFilterValue("a\\b"), "a\\5cb");
  EXPECT_EQ(escapeFilterValue(std::string("a\0b", 3)), "a\\00b");
  EXPECT_EQ(userFilter("(|(uid={name})(sAMAccountName={name}))", "x*"),
            "(|(uid=x\\2a)(sAMAccountName=x\\2a))");
}

TEST(LdapFilterTest, UserAccountControlDisabledBit) {
  EXPECT_FALSE(accountDisabled(""));
  EXPECT_FALSE(accountDisabled("512"));  // NORMAL_ACCOUNT
  EXPECT_TRUE(accountDisabled("514"));   // NORMAL_ACCOUNT | ACCOUNTDISABLE
  EXPECT_TRUE(accountDisabled("66050"));
  EXPECT_FALSE(accountDisabled("66048"));  // DONT_EXPIRE_PASSWORD | NORMAL_ACCOUNT
  EXPECT_FALSE(accountDisabled("junk"));
}

TEST(LdapFactoryTest, DatabaseMeansNoDirectory) {
  config::Config::Identity identity;
  auto d = makeDirectory(identity);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->get(), nullptr);
  identity.source = "ldap://127.0.0.1:1";
  identity.base_dn = Slapd::kBaseDn;
  identity.bind_dn = Slapd::kRootDn;  // without a password file: refused, never an empty bind
  EXPECT_EQ(makeDirectory(identity).error().code, ErrorCode::kInvalidArgument);
  testing::TempDir tmp;
  identity.bind_password_file = tmp.path() / "missing";
  auto missing = makeDirectory(identity);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().field, "identity.bind_password_file");
  testing::writeFile(tmp.path() / "empty", "\n");
  identity.bind_password_file = tmp.path() / "empty";
  EXPECT_EQ(makeDirectory(identity).error().code, ErrorCode::kInvalidArgument);
  testing::writeFile(tmp.path() / "password", "s3cret\r\nignored\n");
  identity.bind_password_file = tmp.path() / "password";
  auto made = makeDirectory(identity);
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_EQ((*made)->describe(),
            "ldap://127.0.0.1:1, base dc=example,dc=com, search as cn=admin,dc=example,dc=com");
}

// ---- LdapDirectory against slapd ----

TEST(LdapDirectoryTest, RightPasswordReturnsTheUserAndItsGroups) {
  Slapd* slapd = sharedSlapd();
  ASSERT_NE(slapd, nullptr);
  LdapDirectory dir(settingsFor(*slapd));
  auto u = dir.authenticate("alice", "alice-password-1");
  ASSERT_TRUE(u.ok()) << u.error().message << "\n" << slapd->logText();
  EXPECT_EQ(u->name, "alice");
  EXPECT_EQ(u->dn, userDn("alice"));
  EXPECT_EQ(u->display_name, "Alice Liddell");
  EXPECT_EQ(u->email, "alice@example.com");
  EXPECT_TRUE(hasGroup(u->groups, "cn=Video Admins," + kGroups))
      << fmt::format("{}", fmt::join(u->groups, "; "));
  EXPECT_TRUE(hasGroup(u->groups, "cn=ops," + kGroups))
      << fmt::format("{}", fmt::join(u->groups, "; "));
  EXPECT_EQ(u->groups.size(), 2u);

  auto c = dir.authenticate("carol", "carol-password-1");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->groups, std::vector<std::string>{"cn=Bookers," + kGroups});
}

TEST(LdapDirectoryTest, WrongPasswordUnknownUserAndEmptyPasswordAreUnauthorized) {
  Slapd* slapd = sharedSlapd();
  ASSERT_NE(slapd, nullptr);
  LdapDirectory dir(settingsFor(*slapd));
  auto wrong = dir.authenticate("alice", "not-her-password");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::kUnauthorized) << wrong.error().message;
  auto unknown = dir.authenticate("mallory", "whatever-password");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kUnauthorized) << unknown.error().message;
  // An empty password is an unauthenticated bind, which slapd accepts: it must never get there.
  auto empty = dir.authenticate("alice", "");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::kUnauthorized);
  // The administrator's log says what happened, and never the password.
  EXPECT_EQ(wrong.error().message.find("not-her-password"), std::string::npos);
  EXPECT_NE(wrong.error().message.find(userDn("alice")), std::string::npos)
      << wrong.error().message;
}

TEST(LdapDirectoryTest, LockedAccountIsRefused) {
  Slapd* slapd = sharedSlapd();
  ASSERT_NE(slapd, nullptr);
  LdapDirectory dir(settingsFor(*slapd));
  auto bob = dir.authenticate("bob", "bob-password-1");
  ASSERT_FALSE(bob.ok());
  EXPECT_EQ(bob.error().code, ErrorCode::kUnauthorized);
  EXPECT_NE(bob.error().message.find("locked"), std::string::npos) << bob.error().message;
}

TEST(LdapDirectoryTest, ActiveDirectoryAccountsBySamAccountNameAndDisabledBit) {
  Slapd* slapd = sharedSlapd();
  ASSERT_NE(slapd, nullptr);
  LdapDirectory dir(settingsFor(*slapd));
  auto grace =
      dir.authenticate("GRACE", "grace-password-1");  // the default filter's sAMAccountName
  ASSERT_TRUE(grace.ok()) << grace.error().message;
  EXPECT_EQ(grace->name, "grace");  // as the directory spells it
  EXPECT_EQ(grace->dn, "cn=grace," + kPeople);
  EXPECT_EQ(grace->display_name, "grace");  // no displayName: cn
  auto frank = dir.authenticate("frank", "frank-password-1");
  ASSERT_FALSE(frank.ok());
  EXPECT_EQ(frank.error().code, ErrorCode::kUnauthorized);
  EXPECT_NE(frank.error().message.find("userAccountControl 514"), std::string::npos)
      << frank.error().message;
}

TEST(LdapDirectoryTest, FilterInjectionInTheNameIsEscaped) {
  Slapd* slapd = sharedSlapd();
  ASSERT_NE(slapd, nullptr);
  LdapDirectory dir(settingsFor(*slapd));
  for (const char* name : {"*", "al*", "alice)(uid=*", "*)(|(uid=*", "alice\\", "(uid=alice)"}) {
    auto r = dir.authenticate(name, "alice-password-1");
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthorized) << name << ": " << r.error().message;
  }
}

TEST(LdapDirectoryTest, SearchAccountFromThePasswordFile) {
  Slapd* slapd = sharedSlapd();
  ASSERT_NE(slapd, nullptr);
  testing::TempDir tmp;
  testing::writeFile(tmp.path() / "bind.password", std::string(Slapd::kRootPassword) + "\n");
  config::Config::Identity identity;
  identity.source = slapd->url();
  identity.base_dn = Slapd::kBaseDn;
  identity.bind_dn = Slapd::kRootDn;
  identity.bind_password_file = tmp.path() / "bind.password";
  identity.timeout = 2000ms;
  auto dir = makeDirectory(identity);
  ASSERT_TRUE(dir.ok()) << dir.error().message;
  ASSERT_NE(dir->get(), nullptr);
  auto u = (*dir)->authenticate("alice", "alice-password-1");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->dn, userDn("alice"));

  // A wrong search-account password is the administrator's problem: unavailable, and says so.
  testing::writeFile(tmp.path() / "bind.password", "wrong\n");
  auto bad = makeDirectory(identity);
  ASSERT_TRUE(bad.ok());
  auto r = (*bad)->authenticate("alice", "alice-password-1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("search account"), std::string::npos) << r.error().message;
}

TEST(LdapDirectoryTest, StoppedOrHungDirectoryIsUnavailableWithinTheTimeout) {
  auto slapd = startSlapd();
  ASSERT_NE(slapd, nullptr);
  LdapDirectory dir(settingsFor(*slapd, 1000ms));
  ASSERT_TRUE(dir.authenticate("alice", "alice-password-1").ok());

  // Hung: the kernel accepts the connection, slapd never answers.
  slapd->pause();
  auto t0 = std::chrono::steady_clock::now();
  auto hung = dir.authenticate("alice", "alice-password-1");
  auto hung_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  slapd->resume();
  ASSERT_FALSE(hung.ok());
  EXPECT_EQ(hung.error().code, ErrorCode::kUnavailable) << hung.error().message;
  EXPECT_LT(hung_ms, 3000ms) << hung.error().message;
  std::cout << "hung directory answered unavailable in " << hung_ms.count()
            << " ms: " << hung.error().message << "\n";

  // Stopped: the port refuses connections.
  ASSERT_TRUE(slapd->stop().ok());
  t0 = std::chrono::steady_clock::now();
  auto down = dir.authenticate("alice", "alice-password-1");
  auto down_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().code, ErrorCode::kUnavailable) << down.error().message;
  EXPECT_LT(down_ms, 2000ms);
  std::cout << "stopped directory answered unavailable in " << down_ms.count()
            << " ms: " << down.error().message << "\n";

  ASSERT_TRUE(slapd->startAgain().ok()) << slapd->logText();
  EXPECT_TRUE(dir.authenticate("alice", "alice-password-1").ok());
}

TEST(LdapDirectoryTest, LdapsAndStartTlsVerifyTheServerCertificate) {
  auto slapd = startSlapd(/*tls=*/true);
  ASSERT_NE(slapd, nullptr);

  LdapSettings ldaps = settingsFor(*slapd);
  ldaps.url = slapd->ldapsUrl();
  ldaps.ca_file = slapd->caFile();
  auto over_ldaps = LdapDirectory(ldaps).authenticate("alice", "alice-password-1");
  ASSERT_TRUE(over_ldaps.ok()) << over_ldaps.error().message << "\n" << slapd->logText();
  EXPECT_EQ(over_ldaps->dn, userDn("alice"));

  LdapSettings start_tls = settingsFor(*slapd);
  start_tls.start_tls = true;
  start_tls.ca_file = slapd->caFile();
  auto over_start_tls = LdapDirectory(start_tls).authenticate("alice", "alice-password-1");
  ASSERT_TRUE(over_start_tls.ok()) << over_start_tls.error().message << "\n" << slapd->logText();

  // Without the test CA the certificate does not verify: no password is sent, unavailable.
  ldaps.ca_file.clear();
  auto unverified = LdapDirectory(ldaps).authenticate("alice", "alice-password-1");
  ASSERT_FALSE(unverified.ok());
  EXPECT_EQ(unverified.error().code, ErrorCode::kUnavailable) << unverified.error().message;
  std::cout << "ldaps with an unknown CA: " << unverified.error().message << "\n";
  start_tls.ca_file.clear();
  auto unverified_start_tls = LdapDirectory(start_tls).authenticate("alice", "alice-password-1");
  ASSERT_FALSE(unverified_start_tls.ok());
  EXPECT_EQ(unverified_start_tls.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(unverified_start_tls.error().message.find("StartTLS"), std::string::npos)
      << unverified_start_tls.error().message;

  // A hung server does not hold a TLS handshake (ldaps) or a StartTLS request past the timeout.
  ldaps.ca_file = start_tls.ca_file = slapd->caFile();
  ldaps.timeout = start_tls.timeout = 1000ms;
  slapd->pause();
  for (const auto& settings : {ldaps, start_tls}) {
    auto t0 = std::chrono::steady_clock::now();
    auto hung = LdapDirectory(settings).authenticate("alice", "alice-password-1");
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - t0);
    ASSERT_FALSE(hung.ok());
    EXPECT_EQ(hung.error().code, ErrorCode::kUnavailable);
    EXPECT_LT(ms, 3000ms) << hung.error().message;
    std::cerr << (settings.start_tls ? "StartTLS" : "ldaps") << " to a hung server: unavailable in "
              << ms.count() << " ms: " << hung.error().message << "\n";
  }
  slapd->resume();
}

// Each call has its own handle (and its own TLS context): sign-ins run side by side on the
// API's pool threads.
TEST(LdapDirectoryTest, ConcurrentSignInsOverLdaps) {
  auto slapd = startSlapd(/*tls=*/true);
  ASSERT_NE(slapd, nullptr);
  LdapSettings ldaps = settingsFor(*slapd);
  ldaps.url = slapd->ldapsUrl();
  ldaps.ca_file = slapd->caFile();
  LdapDirectory dir(ldaps);
  constexpr int kThreads = 8;
  constexpr int kEach = 10;
  std::atomic<int> ok{0};
  std::atomic<int> refused{0};
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        // Every other thread uses a wrong password: those must all be refused.
        bool right = t % 2 == 0;
        auto r = dir.authenticate("carol", right ? "carol-password-1" : "wrong-password");
        if (r.ok() && right) ++ok;
        if (!r.ok() && !right && r.error().code == ErrorCode::kUnauthorized) ++refused;
      }
    });
  }
  for (auto& th : threads) th.join();
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  EXPECT_EQ(ok.load(), kThreads / 2 * kEach);
  EXPECT_EQ(refused.load(), kThreads / 2 * kEach);
  std::cout << kThreads * kEach << " ldaps sign-ins on " << kThreads << " threads in " << ms.count()
            << " ms\n";

  // One at a time, for the record: what a sign-in costs over ldap:// and ldaps://.
  for (const auto& url : {slapd->url(), slapd->ldapsUrl()}) {
    LdapSettings one = ldaps;
    one.url = url;
    LdapDirectory single(one);
    auto s0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(single.authenticate("alice", "alice-password-1").ok());
    auto each = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - s0) /
                20;
    std::cout << url << ": " << each.count()
              << " us per sign-in (connect, search, bind, read, group search)\n";
  }
}

// ---- SignIn end to end: slapd, SignIn and a PeopleStore on a real database ----

class LdapSignInTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto db = store::Database::open(testing::freshDatabaseUrl(GetParam(), tmp_.path()));
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(db).value();
    store::Store schema(*db_, clock_);
    auto migrated = schema.migrate();
    ASSERT_TRUE(migrated.ok()) << migrated.error().message;
    people_ = std::make_unique<store::PeopleStore>(*db_, clock_);
  }

  std::string makeGroup(const std::string& name, const std::string& directory_group) {
    store::Group g;
    g.name = name;
    g.directory_group = directory_group;
    auto created = people_->createGroup(g, "test");
    EXPECT_TRUE(created.ok()) << created.error().message;
    return created.ok() ? created->id : "";
  }

  std::vector<std::string> groupNames(const std::string& user_id) {
    std::vector<std::string> out;
    auto groups = people_->groupsOf(user_id);
    EXPECT_TRUE(groups.ok()) << groups.error().message;
    if (groups.ok()) {
      for (const auto& g : *groups) out.push_back(g.name);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  testing::TempDir tmp_;
  SystemClock clock_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<store::PeopleStore> people_;
};

TEST_P(LdapSignInTest, FirstSignInCreatesTheUserWithItsMappedGroups) {
  Slapd* slapd = sharedSlapd();
  ASSERT_NE(slapd, nullptr);
  LdapDirectory dir(settingsFor(*slapd));
  SignIn sign_in(*people_, &dir, clock_);
  makeGroup("Video administrators", "cn=Video Admins," + kGroups);  // by DN
  makeGroup("Operators", "ops");                                    // by cn
  makeGroup("Bookers", "Bookers");
  makeGroup("Unmapped", "");

  auto u = sign_in.signIn("alice", "alice-password-1", "192.0.2.1");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->source, store::UserSource::kDirectory);
  EXPECT_EQ(u->name, "alice");
  EXPECT_EQ(u->display_name, "Alice Liddell");
  EXPECT_EQ(u->email, "alice@example.com");
  EXPECT_TRUE(u->password_hash.empty());
  auto stored = people_->userByName("alice");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->id, u->id);
  EXPECT_EQ(groupNames(u->id), (std::vector<std::string>{"Operators", "Video administrators"}));

  // The second sign-in finds the same user, whatever the case of the name typed.
  auto again = sign_in.signIn("Alice", "alice-password-1", "192.0.2.1");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->id, u->id);

  // Wrong password and unknown user: one answer that says nothing about which.
  auto wrong = sign_in.signIn("alice", "not-her-password", "192.0.2.1");
  auto unknown = sign_in.signIn("mallory", "not-her-password", "192.0.2.1");
  ASSERT_FALSE(wrong.ok());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::kUnauthorized);
  EXPECT_EQ(unknown.error().code, ErrorCode::kUnauthorized);
  EXPECT_EQ(wrong.error().message, unknown.error().message);
  EXPECT_EQ(wrong.error().message, kWrongCredentials);
}

TEST_P(LdapSignInTest, LeavingTheDirectoryGroupLosesTheAtriumGroupAtNextSignIn) {
  Slapd* slapd = sharedSlapd();
  ASSERT_NE(slapd, nullptr);
  LdapDirectory dir(settingsFor(*slapd));
  SignIn sign_in(*people_, &dir, clock_);
  makeGroup("Video administrators", "Video Admins");
  auto first = sign_in.signIn("dave", "dave-password-1", "192.0.2.2");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(groupNames(first->id), std::vector<std::string>{"Video administrators"});

  ASSERT_TRUE(slapd
                  ->modify(fmt::format(
                      "dn: cn=Video Admins,{}\nchangetype: modify\ndelete: member\nmember: {}\n",
                      kGroups, userDn("dave")))
                  .ok());
  auto second = sign_in.signIn("dave", "dave-password-1", "192.0.2.2");
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_TRUE(groupNames(second->id).empty());

  // Put dave back for the other backend's run.
  ASSERT_TRUE(slapd
                  ->modify(fmt::format(
                      "dn: cn=Video Admins,{}\nchangetype: modify\nadd: member\nmember: {}\n",
                      kGroups, userDn("dave")))
                  .ok());
}

TEST_P(LdapSignInTest, DisabledDirectoryAccountCannotSignIn) {
  Slapd* slapd = sharedSlapd();
  ASSERT_NE(slapd, nullptr);
  LdapDirectory dir(settingsFor(*slapd));
  SignIn sign_in(*people_, &dir, clock_);
  auto bob = sign_in.signIn("bob", "bob-password-1", "192.0.2.3");
  ASSERT_FALSE(bob.ok());
  EXPECT_EQ(bob.error().code, ErrorCode::kUnauthorized);
  EXPECT_FALSE(people_->userByName("bob").ok());  // never created

  // erin signs in, then the directory locks her: the next sign-in is refused.
  ASSERT_TRUE(sign_in.signIn("erin", "erin-password-1", "192.0.2.3").ok());
  ASSERT_TRUE(slapd
                  ->modify(fmt::format("dn: {}\nchangetype: modify\nadd: pwdAccountLockedTime\n"
                                       "pwdAccountLockedTime: 000001010000Z\n",
                                       userDn("erin")))
                  .ok());
  auto erin = sign_in.signIn("erin", "erin-password-1", "192.0.2.3");
  ASSERT_TRUE(slapd
                  ->modify(fmt::format("dn: {}\nchangetype: modify\ndelete: pwdAccountLockedTime\n",
                                       userDn("erin")))
                  .ok());
  ASSERT_FALSE(erin.ok());
  EXPECT_EQ(erin.error().code, ErrorCode::kUnauthorized);
}

TEST_P(LdapSignInTest, LocalAdministratorSignsInWhileTheDirectoryIsDown) {
  auto slapd = startSlapd();
  ASSERT_NE(slapd, nullptr);
  LdapDirectory dir(settingsFor(*slapd, 1000ms));
  SignIn sign_in(*people_, &dir, clock_);
  std::vector<std::string> down;
  int up = 0;
  sign_in.onDirectoryDown([&](const std::string& why) { down.push_back(why); });
  sign_in.onDirectoryUp([&] { ++up; });

  store::User admin;
  admin.name = "breakglass";
  admin.display_name = "Break-glass administrator";
  admin.source = store::UserSource::kLocal;
  auto hash =
      hashPassword("break-glass-password-1", PasswordParams{.time_cost = 1, .memory_kib = 1024});
  ASSERT_TRUE(hash.ok());
  admin.password_hash = *hash;
  ASSERT_TRUE(people_->createUser(admin, "test").ok());
  ASSERT_TRUE(sign_in.signIn("alice", "alice-password-1", "192.0.2.4").ok());
  EXPECT_EQ(up, 1);

  ASSERT_TRUE(slapd->stop().ok());
  auto local = sign_in.signIn("breakglass", "break-glass-password-1", "192.0.2.4");
  ASSERT_TRUE(local.ok()) << local.error().message;
  EXPECT_EQ(local->source, store::UserSource::kLocal);
  auto directory_user = sign_in.signIn("alice", "alice-password-1", "192.0.2.4");
  ASSERT_FALSE(directory_user.ok());
  EXPECT_EQ(directory_user.error().code, ErrorCode::kUnavailable) << directory_user.error().message;
  ASSERT_EQ(down.size(), 1u);
  EXPECT_NE(down[0].find(slapd->url()), std::string::npos) << down[0];
  EXPECT_TRUE(down[0].find("alice-password-1") == std::string::npos);
  // A directory that is down is not a failed sign-in: it does not count towards the rate limit.
  auto failures = people_->failedSignIns("alice", "192.0.2.4", clock_.now() - 1h);
  ASSERT_TRUE(failures.ok());
  EXPECT_EQ(failures->first, 0);

  ASSERT_TRUE(slapd->startAgain().ok()) << slapd->logText();
  ASSERT_TRUE(sign_in.signIn("alice", "alice-password-1", "192.0.2.4").ok());
  EXPECT_EQ(up, 2);
}

INSTANTIATE_TEST_SUITE_P(Backends, LdapSignInTest,
                         ::testing::Values(testing::kSqlite, testing::kPostgres),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace atrium::people
