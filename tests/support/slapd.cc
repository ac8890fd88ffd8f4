#include "support/slapd.h"

#include <fmt/format.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <vector>

namespace atrium::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSlapd = "/usr/sbin/slapd";

// A CA and a certificate for 127.0.0.1 it signs, with the openssl command line.
Status makeCertificates(const fs::path& dir) {
  writeFile(dir / "server.ext", "subjectAltName = IP:127.0.0.1, DNS:localhost\n");
  const std::string d = dir.string();
  const std::vector<std::vector<std::string>> steps = {
      {"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
       "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", d + "/ca.key", "-out", d + "/ca.pem",
       "-days", "2", "-subj", "/CN=Atrium test CA"},
      {"/usr/bin/openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
       "-nodes", "-keyout", d + "/server.key", "-out", d + "/server.csr", "-subj", "/CN=127.0.0.1"},
      {"/usr/bin/openssl", "x509", "-req", "-in", d + "/server.csr", "-CA", d + "/ca.pem", "-CAkey",
       d + "/ca.key", "-CAcreateserial", "-out", d + "/server.pem", "-days", "2", "-extfile",
       d + "/server.ext"},
  };
  for (const auto& argv : steps) {
    auto r = runProgram(argv);
    if (r.exit_code != 0)
      return Error::internal(fmt::format("openssl {} failed: {}", argv[1], r.output));
  }
  return {};
}

std::string tlsConf(const fs::path& dir) {
  return fmt::format(
      "TLSCACertificateFile {0}/ca.pem\nTLSCertificateFile {0}/server.pem\n"
      "TLSCertificateKeyFile {0}/server.key\n",
      dir.string());
}

// Active Directory's account attributes, enough to test with (under a private test OID arc:
// Debian's msuser.schema would clash with the memberof overlay's memberOf).
constexpr const char* kAdSchema = R"(attributetype ( 1.3.6.1.4.1.55555.1.1 NAME 'sAMAccountName'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.55555.1.2 NAME 'userAccountControl'
  EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.55555.2.1 NAME 'atriumTestAdAccount' AUXILIARY
  MAY ( sAMAccountName $ userAccountControl ) )
)";

std::string slapdConf(const fs::path& dir) {
  return fmt::format(R"(include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
include {0}/ad-account.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
moduleload ppolicy
pidfile {0}/slapd.pid
database mdb
suffix "{1}"
rootdn "{2}"
rootpw {3}
directory {0}/db
maxsize 10485760
overlay memberof
overlay ppolicy
ppolicy_default "cn=default,ou=Policies,{1}"
ppolicy_use_lockout
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
)",
                     dir.string(), Slapd::kBaseDn, Slapd::kRootDn, Slapd::kRootPassword);
}

std::string baseEntries() {
  return fmt::format(R"(dn: {0}
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=People,{0}
objectClass: organizationalUnit
ou: People

dn: ou=Groups,{0}
objectClass: organizationalUnit
ou: Groups

dn: ou=Policies,{0}
objectClass: organizationalUnit
ou: Policies

dn: cn=default,ou=Policies,{0}
objectClass: organizationalRole
objectClass: pwdPolicy
cn: default
pwdAttribute: userPassword
pwdLockout: TRUE
)",
                     Slapd::kBaseDn);
}

}  // namespace

Result<std::unique_ptr<Slapd>> Slapd::start(bool tls, std::chrono::milliseconds timeout) {
  if (!fs::exists(kSlapd))
    return Error::unavailable(fmt::format("{} is not installed (apt-get install slapd)", kSlapd));
  std::unique_ptr<Slapd> s(new Slapd());
  s->dir_ = std::make_unique<TempDir>("atrium-slapd");
  fs::create_directories(s->dir_->path() / "db");
  writeFile(s->dir_->path() / "ad-account.schema", kAdSchema);
  std::string conf = slapdConf(s->dir_->path());
  if (tls) {
    ATRIUM_TRY(makeCertificates(s->dir_->path()));
    conf = tlsConf(s->dir_->path()) + conf;
    s->tls_port_ = freePort();
  }
  writeFile(s->dir_->path() / "slapd.conf", conf);
  s->port_ = freePort();
  ATRIUM_TRY(s->launch(timeout));
  ATRIUM_TRY(s->add(baseEntries()));
  return s;
}

Slapd::~Slapd() {
  if (child_) {
    child_->signal(SIGCONT);
    child_->kill();
  }
}

std::string Slapd::url() const { return fmt::format("ldap://127.0.0.1:{}", port_); }
std::string Slapd::ldapsUrl() const { return fmt::format("ldaps://127.0.0.1:{}", tls_port_); }
fs::path Slapd::caFile() const { return dir_->path() / "ca.pem"; }

Status Slapd::launch(std::chrono::milliseconds timeout) {
  std::string listen = url() + "/";
  if (tls_port_ != 0) listen += " " + ldapsUrl() + "/";
  auto child = ChildProcess::spawn(
      {kSlapd, "-f", (dir_->path() / "slapd.conf").string(), "-h", listen, "-d", "0"},
      dir_->path() / "slapd.log");
  if (!child.ok()) return child.error();
  child_ = std::move(child).value();
  bool up = waitFor(
      [&] {
        if (!child_->running()) return true;
        return runProgram({"/usr/bin/ldapsearch", "-x", "-H", url(), "-s", "base", "-b", "", "-o",
                           "nettimeout=1", "1.1"},
                          std::chrono::seconds(5))
                   .exit_code == 0;
      },
      timeout, std::chrono::milliseconds(50));
  if (!child_->running()) {
    child_.reset();
    return Error::unavailable("slapd exited at start:\n" + logText());
  }
  if (!up) return Error::unavailable("slapd did not answer in time:\n" + logText());
  return {};
}

Status Slapd::ldapTool(const std::string& tool, const std::string& ldif) {
  static std::atomic<int> counter{0};
  auto file = dir_->path() / fmt::format("load-{}.ldif", ++counter);
  writeFile(file, ldif);
  auto r = runProgram(
      {tool, "-x", "-H", url(), "-D", kRootDn, "-w", kRootPassword, "-f", file.string()});
  tool_log_ += fmt::format("$ {} -f {}\n{}\n", tool, file.string(), r.output);
  if (r.exit_code != 0)
    return Error::internal(fmt::format("{} failed ({}): {}", tool, r.exit_code, r.output));
  return {};
}

Status Slapd::add(const std::string& ldif) { return ldapTool("/usr/bin/ldapadd", ldif); }
Status Slapd::modify(const std::string& ldif) { return ldapTool("/usr/bin/ldapmodify", ldif); }

Status Slapd::stop() {
  if (!child_) return {};
  child_->signal(SIGCONT);
  child_->signal(SIGTERM);
  if (!child_->wait(std::chrono::seconds(20))) {
    child_->kill();
    child_.reset();
    return Error::internal("slapd did not stop within 20 s of SIGTERM; killed");
  }
  child_.reset();
  return {};
}

Status Slapd::startAgain() {
  if (child_) return {};
  return launch(std::chrono::seconds(20));
}

void Slapd::pause() {
  if (!child_) return;
  child_->signal(SIGSTOP);
  // kill() returns before the process stops: wait until the kernel shows it stopped ("T"), or a
  // request sent right after could still be answered.
  const std::string stat = "/proc/" + std::to_string(child_->pid()) + "/stat";
  (void)waitFor(
      [&] {
        const std::string text = readFile(stat);
        const auto close = text.rfind(')');
        return close != std::string::npos && close + 2 < text.size() && text[close + 2] == 'T';
      },
      std::chrono::seconds(2), std::chrono::milliseconds(2));
}

void Slapd::resume() {
  if (child_) child_->signal(SIGCONT);
}

std::string Slapd::logText() const { return readFile(dir_->path() / "slapd.log") + tool_log_; }

}  // namespace atrium::testing
