// A node under a real descriptor limit (prlimit --nofile=256) held open by many idle
// connections: it neither spins nor floods its log, and /healthz is still answered — while the
// connections are held (the connection cap and idle eviction) or once they close (accept
// backoff at EMFILE when the cap is set above the limit).
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/atrium_node.h"

namespace atrium::testing {
namespace {

constexpr int kDescriptorLimit = 256;
constexpr int kConnections = 400;  // well past the limit

// Connects to 127.0.0.1:port; -1 when the connection failed.
int connectTo(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

class Connections {
 public:
  Connections(std::uint16_t port, int n) {
    for (int i = 0; i < n; ++i) {
      int fd = connectTo(port);
      if (fd >= 0) fds_.push_back(fd);
    }
  }
  ~Connections() { closeAll(); }
  std::size_t size() const { return fds_.size(); }
  void closeAll() {
    for (int fd : fds_) ::close(fd);
    fds_.clear();
  }

 private:
  std::vector<int> fds_;
};

// utime + stime of a process, in seconds.
double cpuSeconds(pid_t pid) {
  std::string stat = readFile(fmt::format("/proc/{}/stat", pid));
  auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return -1;
  std::istringstream in(stat.substr(close_paren + 2));
  std::vector<std::string> fields;
  for (std::string f; in >> f;) fields.push_back(f);
  // After "pid (comm) ": state is field 3, utime 14 and stime 15.
  if (fields.size() < 13) return -1;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return (std::stod(fields[11]) + std::stod(fields[12])) / ticks;
}

std::size_t lineCount(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// The CPU the node uses over one second.
double cpuOverOneSecond(pid_t pid) {
  const double before = cpuSeconds(pid);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  return cpuSeconds(pid) - before;
}

bool answers(const AtriumNode& node, std::string_view target) {
  auto r = node.http("GET", target);
  return r.ok() && r->status == 200;
}

AtriumNode::Options limitedNode(std::string api_extra = {}) {
  AtriumNode::Options o;
  o.api_section_extra = std::move(api_extra);
  o.command_prefix = {"/usr/bin/prlimit", fmt::format("--nofile={0}:{0}", kDescriptorLimit), "--"};
  return o;
}

TEST(ConnectionLimitTest, DefaultCapEvictsIdleConnectionsAndHealthzAnswersWhileTheyAreHeld) {
  TempDir tmp;
  AtriumNode node(tmp.path() / "node", limitedNode());
  ASSERT_EQ(node.init().exit_code, 0);
  ASSERT_TRUE(node.start().ok()) << node.log();
  ASSERT_TRUE(node.waitReady()) << node.log();
  // The cap is the descriptor limit less 64 and two per database connection (pool_size 4).
  EXPECT_NE(node.log().find("max_connections=" + std::to_string(kDescriptorLimit - 64 - 8)),
            std::string::npos)
      << node.log();

  Connections held(node.port(), kConnections);
  ASSERT_EQ(held.size(), static_cast<std::size_t>(kConnections));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const std::size_t lines_before = lineCount(node.log());
  const double cpu = cpuOverOneSecond(node.process()->pid());
  EXPECT_LT(cpu, 0.25) << "the node spins at the cap";

  // The idle ones are closed to make room: /healthz and /readyz answer with all 400 still open
  // on the client side.
  EXPECT_TRUE(waitFor([&] { return answers(node, "/healthz"); }, std::chrono::seconds(15)))
      << node.log();
  EXPECT_TRUE(answers(node, "/readyz")) << node.log();
  const std::size_t lines_after = lineCount(node.log());
  std::printf("measured at the cap: cpu %.3f s over 1 s, %zu log lines, %zu connections held\n",
              cpu, lines_after - lines_before, held.size());
  EXPECT_LT(lines_after - lines_before, 40u) << node.log();
  EXPECT_NE(node.log().find("http.accept_pressure"), std::string::npos) << node.log();
  EXPECT_EQ(node.log().find("Too many open files"), std::string::npos) << node.log();

  held.closeAll();
  EXPECT_TRUE(waitFor([&] { return answers(node, "/healthz"); }, std::chrono::seconds(10)));
  EXPECT_EQ(node.stop().value_or(-1), 0) << node.log();
}

TEST(ConnectionLimitTest, AcceptBacksOffAtTheDescriptorLimitAndRecoversWhenConnectionsClose) {
  TempDir tmp;
  // A cap above the descriptor limit: accept itself fails with EMFILE.
  AtriumNode node(tmp.path() / "node", limitedNode("max_connections = 100000\n"));
  ASSERT_EQ(node.init().exit_code, 0);
  ASSERT_TRUE(node.start().ok()) << node.log();
  ASSERT_TRUE(node.waitReady()) << node.log();
  // The node says at start that its cap is above what it can open.
  EXPECT_NE(node.log().find("http.max_connections_above_descriptor_limit"), std::string::npos)
      << node.log();

  Connections held(node.port(), kConnections);
  ASSERT_EQ(held.size(), static_cast<std::size_t>(kConnections));
  ASSERT_TRUE(waitFor([&] { return node.log().find("accept_failures=") != std::string::npos; },
                      std::chrono::seconds(10)))
      << node.log();
  const std::size_t lines_before = lineCount(node.log());
  const double cpu = cpuOverOneSecond(node.process()->pid());
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const std::size_t lines_after = lineCount(node.log());
  std::printf("measured at EMFILE: cpu %.3f s over 1 s, %zu log lines over 3 s\n", cpu,
              lines_after - lines_before);
  EXPECT_LT(cpu, 0.25) << "the acceptor spins at EMFILE";
  // One line a second at most about the failures (3 s here), not one per failure.
  EXPECT_LT(lines_after - lines_before, 15u) << node.log().substr(node.log().size() - 4000);
  EXPECT_NE(node.log().find("Too many open files"), std::string::npos);
  EXPECT_TRUE(node.process()->running());

  held.closeAll();
  EXPECT_TRUE(waitFor([&] { return answers(node, "/healthz"); }, std::chrono::seconds(20)))
      << node.log().substr(node.log().size() - 4000);
  EXPECT_TRUE(waitFor([&] { return answers(node, "/readyz"); }, std::chrono::seconds(10)));
  EXPECT_EQ(node.stop().value_or(-1), 0) << node.log().substr(node.log().size() - 4000);
}

}  // namespace
}  // namespace atrium::testing
