#include "devices/snmp/net_snmp.h"

// net-snmp's headers must come first and in this order.
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include <cstdlib>
#include <mutex>

namespace atrium::devices {

void initNetSnmp() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Atrium reads no net-snmp configuration files, loads no MIBs and persists no state: all it
    // needs is the protocol. Numeric OIDs throughout.
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_CONFIG_LOAD, 1);
    netsnmp_ds_set_int(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_OID_OUTPUT_FORMAT,
                       NETSNMP_OID_OUTPUT_NUMERIC);
    ::setenv("MIBS", "", 0);
    snmp_disable_log();
    netsnmp_init_mib();
    init_snmp("atrium");
  });
}

}  // namespace atrium::devices
