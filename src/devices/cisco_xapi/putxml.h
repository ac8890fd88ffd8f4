// Bodies for POST /putxml: configuration changes and commands (elements marked command="True"),
// and the reading of what the endpoint answers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "devices/types.h"
#include "devices/xml_tree.h"

namespace atrium::devices::cisco_xapi {

// <Configuration> with one leaf per setting; paths as in XapiConfiguration ("SystemUnit/Name",
// "SIP/Proxy[1]/Address"). Values with control characters are refused.
Result<std::string> buildConfigurationPutxml(const std::vector<PathValue>& settings);

struct CommandArgument {
  std::string name;
  std::string value;
};

// <Command><A><B command="True"><Arg>value</Arg>...</B></A></Command> for the command path "A B"
// (or "A/B"). An argument name given more than once becomes items 1..n (Expression).
Result<std::string> buildCommandPutxml(std::string_view command,
                                       const std::vector<CommandArgument>& arguments);

// The commands the drivers use. `protocol` ("Sip", "H323", "Spark") and `rate_kbps` are left to
// the endpoint's defaults when empty or 0.
Result<std::string> dialCommand(std::string_view number, std::string_view protocol = {},
                                int rate_kbps = 0);
Result<std::string> callDisconnectCommand(std::string_view call_id);
// HttpFeedback Register with FeedbackSlot, ServerUrl, Format (when set) and the expressions.
Result<std::string> httpFeedbackRegisterCommand(const FeedbackSlot& slot);
Result<std::string> httpFeedbackDeregisterCommand(int slot);
Result<std::string> systemUnitBootCommand();

// What a command answered, e.g. name "DialResult", status "OK", values {"CallId","3"}.
struct CommandResult {
  std::string name;
  std::string status;
  std::vector<PathValue> values;

  std::string value(std::string_view path) const;
};

// Reads a putxml answer. Refusals (status="Error", ParameterError) become errors; a
// configuration change answered with an empty or <Success> document is an OK result.
Result<CommandResult> parseCommandResult(std::string_view body, const XmlLimits& limits = {});

// The endpoint's side (the simulator): what a putxml body asks for. Either settings
// (<Configuration> leaves) or one command: its path ("HttpFeedback Register") and arguments in
// document order (repeated arguments such as Expression keep their order).
struct PutxmlRequest {
  std::vector<PathValue> settings;
  std::string command;
  std::vector<CommandArgument> arguments;

  bool isCommand() const { return !command.empty(); }
};
Result<PutxmlRequest> parsePutxmlRequest(std::string_view body, const XmlLimits& limits = {});

// The endpoint's answer to a command: <Command><{name} status="{status}">values</...></Command>,
// e.g. ("DialResult", "OK", {{"CallId", "4"}}). A status of "Error" with a "Reason" value is what
// parseCommandResult reports as an error.
Result<std::string> buildCommandResult(std::string_view name, std::string_view status,
                                       const std::vector<PathValue>& values);

}  // namespace atrium::devices::cisco_xapi
