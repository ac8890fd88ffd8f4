// net-snmp's process-wide initialisation, in one place for every user of the library (the SNMP
// driver and the trap receiver): no configuration files, no MIBs, numeric OIDs, no persistent
// state. Safe to call from any thread, any number of times; the work is done once.
#pragma once

namespace atrium::devices {

void initNetSnmp();

}  // namespace atrium::devices
