// The sealed form of stored credentials: round trip, key ids, and every way of changing or
// cutting the text fails cleanly (an error, never a wrong password or a crash).
#include <gtest/gtest.h>

#include "common/credential_cipher.h"

namespace atrium {
namespace {

const std::string kSecretHex(64, 'a');
const std::string kOtherHex = std::string(63, 'a') + "b";

CredentialKey key(const std::string& id, const std::string& hex) {
  return *deriveCredentialKeyFromHex(id, hex);
}

TEST(CredentialCipherTest, RoundTripNamesTheKeyAndHoldsNoClearText) {
  const auto k = key("k1", kSecretHex);
  for (std::string plain : {std::string("secret-pw"), std::string(), std::string(1000, 'x'),
                            std::string("a:b:c\n\0z", 9)}) {
    auto sealed = sealCredential(k, plain);
    ASSERT_TRUE(sealed.ok());
    EXPECT_TRUE(isSealedCredential(*sealed));
    EXPECT_TRUE(sealed->starts_with("enc1:k1:")) << *sealed;
    EXPECT_EQ(sealedCredentialKeyId(*sealed), "k1");
    if (plain.size() > 3) {
      EXPECT_EQ(sealed->find(plain), std::string::npos);
    }
    auto opened = openCredential({k}, *sealed);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    EXPECT_EQ(*opened, plain);
  }
}

TEST(CredentialCipherTest, FreshNonceEachTimeAndDeterministicWithAGivenOne) {
  const auto k = key("k1", kSecretHex);
  EXPECT_NE(*sealCredential(k, "pw"), *sealCredential(k, "pw"));
  const std::array<std::uint8_t, 12> nonce{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  EXPECT_EQ(sealCredentialWithNonce(k, "pw", nonce), sealCredentialWithNonce(k, "pw", nonce));
  EXPECT_TRUE(sealCredentialWithNonce(k, "pw", nonce).starts_with("enc1:k1:AQIDBAUGBwgJCgsM:"));
}

TEST(CredentialCipherTest, KeysDifferByValidationSecretAndTheRightOneIsChosenById) {
  const auto a = key("k1", kSecretHex);
  const auto b = key("k2", kOtherHex);
  EXPECT_NE(a.key, b.key);
  EXPECT_EQ(a.key, key("k1", kSecretHex).key);
  auto sealed = *sealCredential(b, "pw-b");
  auto opened = openCredential({a, b}, sealed);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "pw-b");
  EXPECT_FALSE(deriveCredentialKeyFromHex("x", "zz").has_value());
  EXPECT_FALSE(deriveCredentialKeyFromHex("x", "abc").has_value());
}

TEST(CredentialCipherTest, WrongOrUnknownKeyFails) {
  const auto k = key("k1", kSecretHex);
  auto sealed = *sealCredential(k, "pw");
  // Same id, other secret: authentication fails.
  auto wrong = openCredential({key("k1", kOtherHex)}, sealed);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(wrong.error().message.find("pw"), std::string::npos);
  EXPECT_FALSE(openCredential({key("k2", kSecretHex)}, sealed).ok());
  EXPECT_FALSE(openCredential({}, sealed).ok());
  // Renaming the key id (the id is authenticated).
  auto renamed = sealed;
  renamed.replace(5, 2, "k2");
  EXPECT_FALSE(openCredential({k, key("k2", kSecretHex)}, renamed).ok());
}

TEST(CredentialCipherTest, TamperedCiphertextTagOrNonceFails) {
  const auto k = key("k1", kSecretHex);
  const std::string sealed = *sealCredential(k, "a management password");
  const auto nonce_at = sealed.find(':', 5) + 1;
  const auto data_at = sealed.find(':', nonce_at) + 1;
  // Flip one bit of each decoded byte in turn (through base64: change one character).
  for (std::size_t i = nonce_at; i < sealed.size(); ++i) {
    if (sealed[i] == ':' || sealed[i] == '=') continue;
    std::string t = sealed;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(openCredential({k}, t).ok())
        << "position " << i << (i >= data_at ? " (data)" : " (nonce)");
  }
}

TEST(CredentialCipherTest, TruncatedOrMalformedTextFails) {
  const auto k = key("k1", kSecretHex);
  const std::string sealed = *sealCredential(k, "pw");
  for (std::size_t n = 0; n < sealed.size(); ++n) {
    EXPECT_FALSE(openCredential({k}, sealed.substr(0, n)).ok()) << n;
  }
  for (std::string bad :
       {"", "pw", "enc1:", "enc1::AAAA:AAAA", "enc1:k1", "enc1:k1:", "enc1:k1:AQIDBAUGBwgJCgsM",
        "enc1:k1:AQIDBAUGBwgJCgsM:", "enc1:k1:!!!!:AAAA", "enc2:k1:AQIDBAUGBwgJCgsM:AAAA"}) {
    EXPECT_FALSE(openCredential({k}, bad).ok()) << bad;
  }
  EXPECT_FALSE(isSealedCredential("legacy-clear-password"));
  EXPECT_FALSE(sealedCredentialKeyId("legacy").has_value());
}

}  // namespace
}  // namespace atrium
