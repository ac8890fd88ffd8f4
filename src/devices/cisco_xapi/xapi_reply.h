// Replies of the xAPI over HTTP. A Cisco endpoint answers HTTP 200 even when it refused the
// request: the failure is in the body (<XmlDoc status="Error">, <Result status="Error">,
// <DialResult status="Error">, <ParameterError/>, a <Reason>). These functions find it.
#pragma once

#include <pugixml.hpp>
#include <string_view>

#include "common/result.h"
#include "devices/xml_tree.h"

namespace atrium::devices::cisco_xapi {

// An error if the document is an error reply (root or the three levels below it carry
// status="Error"/"ParameterError" or a ParameterError element). The message quotes the device's
// Reason/XPath/Cause. "No match on address expression" is not-found; other refusals are
// invalid-argument.
Status checkXapiReply(pugi::xml_node root, std::string_view what);

// Parses (with limits) and checks a reply body.
Result<XmlDocument> parseXapiReply(std::string_view body, std::string_view what,
                                   const XmlLimits& limits = {});

}  // namespace atrium::devices::cisco_xapi
