#include <gtest/gtest.h>

#include "common/log.h"
#include "common/redact.h"

namespace atrium {
namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef";

TEST(RedactTest, FeedbackSecretsAreTakenOutWhereverTheyStand) {
  EXPECT_EQ(redactSecrets("cannot register HTTP feedback to http://10.0.0.1:8080/feedback/" +
                          kSecret + ": refused"),
            "cannot register HTTP feedback to http://10.0.0.1:8080/feedback/<secret>: refused");
  EXPECT_EQ(redactSecrets("a /feedback/" + kSecret + " and b /feedback/" + kSecret + "/x"),
            "a /feedback/<secret> and b /feedback/<secret>/x");
  // JSON text keeps slashes as they are, so a dumped payload is redacted the same way.
  EXPECT_EQ(redactSecrets(R"({"url":"http://h/feedback/)" + kSecret + R"("})"),
            R"({"url":"http://h/feedback/<secret>"})");
  EXPECT_TRUE(holdsSecret("/feedback/" + kSecret));
}

TEST(RedactTest, TextWithoutASecretIsUnchanged) {
  for (const std::string text :
       {"", "/feedback/", "/feedback/abc", "/feedback/<secret>",
        "http://h/feedback/0123456789abcdef0123456789abcde", "no feedback here"}) {
    EXPECT_EQ(redactSecrets(text), text);
    EXPECT_FALSE(holdsSecret(text));
  }
}

}  // namespace
}  // namespace atrium
