// Signed session tokens on a real (SQLite) store: what one signer makes another verifies; tokens
// altered, signed with a retired key past its grace, or expired are refused with the reason.
#include <gtest/gtest.h>

#include "api/token_signer.h"
#include "cluster/keyring.h"
#include "common/clock.h"
#include "store/cluster_store.h"
#include "store/database.h"
#include "store/store.h"
#include "support/process.h"

namespace atrium {
namespace {

class TokenSignerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::Database::open("sqlite:" + (tmp_.path() / "atrium.db").string());
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(*db);
    store_ = std::make_unique<store::Store>(*db_, clock_);
    ASSERT_TRUE(store_->migrate().ok());
    cluster_ = std::make_unique<store::ClusterStore>(*db_);
    auto secret = cluster::generateKeySecret();
    ASSERT_TRUE(secret.ok());
    ASSERT_TRUE(cluster_->rotateValidationKey(*secret, 0).ok());
  }

  std::unique_ptr<cluster::Keyring> keyring() {
    return std::make_unique<cluster::Keyring>(
        *cluster_, clock_,
        cluster::KeyringOptions{std::chrono::milliseconds(0), std::chrono::milliseconds(0)});
  }

  testing::TempDir tmp_;
  SystemClock clock_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::ClusterStore> cluster_;
};

TEST(Base64UrlTest, RoundTripsEveryLength) {
  std::string bytes;
  for (int n = 0; n < 40; ++n) {
    auto text = api::base64UrlEncode(bytes);
    EXPECT_EQ(text.find_first_of("+/="), std::string::npos) << text;
    auto back = api::base64UrlDecode(text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(*back, bytes);
    bytes.push_back(static_cast<char>(n * 37 + 250));
  }
  EXPECT_FALSE(api::base64UrlDecode("a").has_value());
  EXPECT_FALSE(api::base64UrlDecode("ab+c").has_value());
  // "QQ" is the canonical text of "A"; "QR" differs only in unused bits and is refused.
  EXPECT_EQ(api::base64UrlDecode("QQ").value_or(""), "A");
  EXPECT_FALSE(api::base64UrlDecode("QR").has_value());
}

TEST(KeyFingerprintTest, IsSixteenHexDigitsOfTheKey) {
  const std::string key(64, 'a');
  EXPECT_EQ(cluster::keyFingerprint(key).size(), 16u);
  EXPECT_EQ(cluster::keyFingerprint(key), cluster::keyFingerprint(key));
  EXPECT_NE(cluster::keyFingerprint(key), cluster::keyFingerprint(std::string(64, 'b')));
  EXPECT_FALSE(cluster::keyBytes("abc").ok());
  EXPECT_FALSE(cluster::keyBytes(std::string(64, 'g')).ok());
}

TEST_F(TokenSignerTest, WhatOneSignerMakesAnotherVerifies) {
  auto ring_a = keyring();
  auto ring_b = keyring();
  api::TokenSigner a(*ring_a), b(*ring_b);
  auto token = a.sign("alice", std::chrono::hours(12));
  ASSERT_TRUE(token.ok()) << token.error().message;
  EXPECT_EQ(token->token.rfind("v1." + token->claims.key_id + ".", 0), 0u) << token->token;
  auto claims = b.verify(token->token);
  ASSERT_TRUE(claims.ok()) << claims.error().message;
  EXPECT_EQ(claims->subject, "alice");
  EXPECT_EQ(claims->expires_at - claims->issued_at, 12 * 3600);
}

TEST_F(TokenSignerTest, AlteredTokensAreRefusedWithTheReason) {
  auto ring = keyring();
  api::TokenSigner signer(*ring);
  auto token = signer.sign("alice", std::chrono::hours(1));
  ASSERT_TRUE(token.ok());
  // Another subject in the payload, same signature.
  auto parts_end = token->token.rfind('.');
  auto payload_start = token->token.rfind('.', parts_end - 1) + 1;
  std::string forged = token->token.substr(0, payload_start) +
                       api::base64UrlEncode(R"({"sub":"mallory","iat":1,"exp":99999999999})") +
                       token->token.substr(parts_end);
  auto refused = signer.verify(forged);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnauthorized);
  EXPECT_NE(refused.error().message.find("signature"), std::string::npos)
      << refused.error().message;

  // Every change of the signature's last character is refused, also one that only touches the
  // character's unused bits (a 32-byte HMAC leaves two of them).
  for (char c : std::string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")) {
    if (c == token->token.back()) continue;
    std::string altered = token->token;
    altered.back() = c;
    EXPECT_FALSE(signer.verify(altered).ok()) << altered;
  }

  auto malformed = signer.verify("not-a-token");
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().code, ErrorCode::kUnauthorized);
  EXPECT_NE(malformed.error().message.find("malformed"), std::string::npos);

  auto unknown =
      signer.verify("v1.000000000000." + token->token.substr(token->token.find('.', 3) + 1));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("000000000000"), std::string::npos)
      << unknown.error().message;
}

TEST_F(TokenSignerTest, ExpiredTokensAreRefused) {
  auto ring = keyring();
  api::TokenSigner signer(*ring);
  auto token = signer.sign("alice", std::chrono::seconds(0));
  ASSERT_TRUE(token.ok());
  auto refused = signer.verify(token->token);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnauthorized);
  EXPECT_NE(refused.error().message.find("expired"), std::string::npos) << refused.error().message;
}

TEST_F(TokenSignerTest, RotationKeepsThePreviousKeyForItsGraceOnly) {
  auto ring = keyring();
  api::TokenSigner signer(*ring);
  auto old_token = signer.sign("alice", std::chrono::hours(1));
  ASSERT_TRUE(old_token.ok());

  ASSERT_TRUE(cluster_->rotateValidationKey(*cluster::generateKeySecret(), 3600 * 1000).ok());
  auto still = signer.verify(old_token->token);
  EXPECT_TRUE(still.ok()) << still.error().message;
  auto new_token = signer.sign("bob", std::chrono::hours(1));
  ASSERT_TRUE(new_token.ok());
  EXPECT_NE(new_token->claims.key_id, old_token->claims.key_id);

  // Retiring the key that signed new_token with no grace: refused at once.
  ASSERT_TRUE(cluster_->rotateValidationKey(*cluster::generateKeySecret(), 0).ok());
  auto refused = signer.verify(new_token->token);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnauthorized);
  EXPECT_NE(refused.error().message.find(new_token->claims.key_id), std::string::npos)
      << refused.error().message;
}

}  // namespace
}  // namespace atrium
