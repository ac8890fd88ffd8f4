// The words Cisco xAPI documents use for call, direction and registration states, both ways, and
// the call block shared by status.xml and status feedback.
#pragma once

#include <optional>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "devices/types.h"

namespace atrium::devices::cisco_xapi {

CallState callStateFromXapi(std::string_view word);
std::string_view callStateToXapi(CallState state);
CallDirection callDirectionFromXapi(std::string_view word);  // "Incoming"/"outgoing", any case
std::string_view callDirectionToXapi(CallDirection direction);
RegistrationState registrationStateFromXapi(std::string_view word);
std::string_view registrationStateToXapi(RegistrationState state);

// "On"/"True" -> true, "Off"/"False" -> false, anything else nullopt.
std::optional<bool> onOffFromXapi(std::string_view word);

// A non-negative decimal number, or `fallback` when the text is empty or not a number.
long long numberFromXapi(std::string_view text, long long fallback = 0);

// A <Call item="n"> element of status.xml or a status feedback post.
CallInfo callFromXapi(pugi::xml_node call);

// The <HttpFeedback item="n"> children of `parent` (status.xml), expressions in item order.
std::vector<FeedbackSlot> feedbackSlotsFromXml(pugi::xml_node parent);

}  // namespace atrium::devices::cisco_xapi
