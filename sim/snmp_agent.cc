// Every simulated system's SNMP v1/v2c agent (system and interfaces groups) and its traps. One
// UDP socket per system, all waited on by the fleet's io_context (no select(), so no FD_SETSIZE
// limit); datagrams are read into one shared buffer on the io thread and decoded and encoded
// with net-snmp. Traps leave from the system's own address.
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

#include "common/log.h"
#include "sim/sim_fleet.h"

namespace atrium::sim {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;

constexpr long kNoSuchName = 2;   // v1
constexpr long kReadOnly = 4;     // v1 SET
constexpr long kNotWritable = 17;  // v2c SET
constexpr int kMaxBulk = 50;

SnmpOid sysObjectIdOf(const std::string& family) {
  if (family == "cisco-xapi") return parseOid("1.3.6.1.4.1.9.1.1429");
  if (family == "cisco-mcu") return parseOid("1.3.6.1.4.1.9.1.1853");
  if (family == "polycom") return parseOid("1.3.6.1.4.1.2684.1.1");
  return parseOid("1.3.6.1.4.1.8072.3.2.10");
}

const SnmpBinding* findExact(const std::vector<SnmpBinding>& mib, const SnmpOid& oid) {
  for (const SnmpBinding& b : mib) {
    if (b.oid == oid) return &b;
  }
  return nullptr;
}

const SnmpBinding* findNext(const std::vector<SnmpBinding>& mib, const SnmpOid& oid) {
  for (const SnmpBinding& b : mib) {  // mib is sorted
    if (std::lexicographical_compare(oid.begin(), oid.end(), b.oid.begin(), b.oid.end())) return &b;
  }
  return nullptr;
}

}  // namespace

std::vector<SnmpBinding> SimFleet::mibOf(const SimSystem& sys) const {
  const auto ticks = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.monotonic() - sys.booted_at).count() / 10;
  std::vector<SnmpBinding> mib = {
      {parseOid("1.3.6.1.2.1.1.1.0"),
       SnmpValue::string(fmt::format("{} {}, software {}", sys.product_type, sys.info.model, sys.info.software_version))},
      {parseOid("1.3.6.1.2.1.1.2.0"), SnmpValue::objectId(sysObjectIdOf(sys.info.family))},
      {parseOid("1.3.6.1.2.1.1.3.0"), SnmpValue::timeticks(ticks)},
      {parseOid("1.3.6.1.2.1.1.4.0"), SnmpValue::string("noc@sim.example.com")},
      {parseOid("1.3.6.1.2.1.1.5.0"), SnmpValue::string(sys.identity.system_name)},
      {parseOid("1.3.6.1.2.1.1.6.0"), SnmpValue::string("Simulated rack")},
      {parseOid("1.3.6.1.2.1.1.7.0"), SnmpValue::integer(72)},
      {parseOid("1.3.6.1.2.1.2.1.0"), SnmpValue::integer(1)},
      {parseOid("1.3.6.1.2.1.2.2.1.1.1"), SnmpValue::integer(1)},
      {parseOid("1.3.6.1.2.1.2.2.1.2.1"), SnmpValue::string("eth0")},
      {parseOid("1.3.6.1.2.1.2.2.1.3.1"), SnmpValue::integer(6)},
      {parseOid("1.3.6.1.2.1.2.2.1.5.1"), SnmpValue::gauge(1000000000)},
      {parseOid("1.3.6.1.2.1.2.2.1.7.1"), SnmpValue::integer(1)},
      {parseOid("1.3.6.1.2.1.2.2.1.8.1"), SnmpValue::integer(sys.if_oper_status)},
  };
  return mib;
}

void SimFleet::snmpWait(int index) {
  SimSystem& sys = *systems_[static_cast<std::size_t>(index)];
  sys.snmp->async_wait(udp::socket::wait_read, [this, index](boost::system::error_code ec) {
    if (ec) return;  // closed
    snmpReceive(index);
    snmpWait(index);
  });
}

void SimFleet::snmpReceive(int index) {
  SimSystem& sys = *systems_[static_cast<std::size_t>(index)];
  for (int datagrams = 0; datagrams < 16; ++datagrams) {
    udp::endpoint peer;
    boost::system::error_code ec;
    const std::size_t n = sys.snmp->receive_from(asio::buffer(snmp_buffer_), peer, 0, ec);
    if (ec) return;  // would block: drained
    if (sys.fault == Fault::kUnreachable || sys.fault == Fault::kWrongCredentials) continue;
    auto request = decodeSnmpRequest(snmp_buffer_.data(), n);
    if (!request.ok()) continue;  // garbage is dropped, as agents do
    if (request->community != sys.info.snmp_community) continue;  // wrong community: silence
    const std::vector<SnmpBinding> mib = mibOf(sys);
    std::vector<SnmpBinding> out;
    long error_status = 0;
    long error_index = 0;
    const bool v1 = request->version == 0;
    const auto& oids = request->oids;
    switch (request->command) {
      case SnmpCommand::kGet:
        for (std::size_t i = 0; i < oids.size(); ++i) {
          if (const SnmpBinding* b = findExact(mib, oids[i])) {
            out.push_back(*b);
          } else if (v1) {
            error_status = kNoSuchName;
            error_index = static_cast<long>(i + 1);
            out.push_back({oids[i], SnmpValue::exception(SnmpValue::Type::kNull)});
          } else {
            const bool known_object = std::any_of(mib.begin(), mib.end(), [&](const SnmpBinding& m) {
              return m.oid.size() == oids[i].size() &&
                     std::equal(m.oid.begin(), m.oid.end() - 1, oids[i].begin());
            });
            out.push_back({oids[i], SnmpValue::exception(known_object ? SnmpValue::Type::kNoSuchInstance
                                                                      : SnmpValue::Type::kNoSuchObject)});
          }
        }
        break;
      case SnmpCommand::kGetNext:
        for (std::size_t i = 0; i < oids.size(); ++i) {
          if (const SnmpBinding* b = findNext(mib, oids[i])) {
            out.push_back(*b);
          } else if (v1) {
            error_status = kNoSuchName;
            error_index = static_cast<long>(i + 1);
            out.push_back({oids[i], SnmpValue::exception(SnmpValue::Type::kNull)});
          } else {
            out.push_back({oids[i], SnmpValue::exception(SnmpValue::Type::kEndOfMibView)});
          }
        }
        break;
      case SnmpCommand::kGetBulk: {
        const std::size_t non_repeaters =
            std::min(oids.size(), static_cast<std::size_t>(std::max(0L, request->bulk_non_repeaters)));
        const int repetitions = static_cast<int>(std::clamp(request->bulk_max_repetitions, 0L, static_cast<long>(kMaxBulk)));
        for (std::size_t i = 0; i < non_repeaters; ++i) {
          const SnmpBinding* b = findNext(mib, oids[i]);
          out.push_back(b ? *b : SnmpBinding{oids[i], SnmpValue::exception(SnmpValue::Type::kEndOfMibView)});
        }
        std::vector<SnmpOid> cursor(oids.begin() + static_cast<long>(non_repeaters), oids.end());
        for (int r = 0; r < repetitions && !cursor.empty(); ++r) {
          bool all_done = true;
          for (SnmpOid& c : cursor) {
            const SnmpBinding* b = findNext(mib, c);
            if (b) {
              out.push_back(*b);
              c = b->oid;
              all_done = false;
            } else {
              out.push_back({c, SnmpValue::exception(SnmpValue::Type::kEndOfMibView)});
            }
          }
          if (all_done) break;
        }
        break;
      }
      case SnmpCommand::kSet:
        error_status = v1 ? kReadOnly : kNotWritable;
        error_index = 1;
        for (const SnmpOid& o : oids) out.push_back({o, SnmpValue::exception(SnmpValue::Type::kNull)});
        break;
      case SnmpCommand::kOther:
        continue;
    }
    auto encoded = encodeSnmpResponse(*request, out, error_status, error_index);
    if (!encoded.ok()) {
      log::warn("sim.snmp_encode_failed", {{"system", sys.info.name}, {"error", encoded.error().message}});
      continue;
    }
    std::string packet = std::move(*encoded);
    if (sys.fault == Fault::kMalformed) packet = truncated(packet);
    if (sys.fault == Fault::kSlow && sys.fault_delay.count() > 0) {
      auto timer = std::make_shared<asio::steady_timer>(ioc_, sys.fault_delay);
      timer->async_wait([this, timer, index, peer, packet = std::move(packet)](boost::system::error_code wait_ec) {
        SimSystem& s = *systems_[static_cast<std::size_t>(index)];
        boost::system::error_code ignored;
        if (!wait_ec && s.snmp->is_open()) s.snmp->send_to(asio::buffer(packet), peer, 0, ignored);
      });
      continue;
    }
    sys.snmp->send_to(asio::buffer(packet), peer, 0, ec);
  }
}

void SimFleet::trap(SimSystem& sys, const SnmpOid& trap_oid, std::vector<SnmpBinding> bindings) {
  if (!trap_target_ || !sys.snmp || !sys.snmp->is_open()) return;
  const auto ticks = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.monotonic() - sys.booted_at).count() / 10;
  auto packet = encodeSnmpTrap(options_.trap_community, ticks, trap_oid, bindings, trap_request_id_++);
  if (!packet.ok()) {
    log::warn("sim.trap_encode_failed", {{"system", sys.info.name}, {"error", packet.error().message}});
    return;
  }
  boost::system::error_code ec;
  sys.snmp->send_to(asio::buffer(*packet), *trap_target_, 0, ec);
  if (ec) log::debug("sim.trap_send_failed", {{"system", sys.info.name}, {"error", ec.message()}});
}

}  // namespace atrium::sim
