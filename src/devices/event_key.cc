#include "devices/event_key.h"

#include <openssl/evp.h>

#include <array>
#include <memory>
#include <stdexcept>

namespace atrium::devices {
namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// Length-prefixed so that ("ab","c") and ("a","bc") never encode alike.
void appendField(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

}  // namespace

std::string sha256Hex(std::string_view data) {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest.data(), &length) != 1) {
    // Only an allocation failure inside OpenSSL gets here; a key we cannot compute is a bug.
    throw std::runtime_error("SHA-256 digest failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0x0f];
  }
  return hex;
}

std::string eventIdempotencyKey(std::string_view sender, const DeviceEvent& event,
                                std::size_t index) {
  std::string material = "atrium-device-event-v1;";
  appendField(material, sender);
  appendField(material, eventKindName(event.kind));
  appendField(material, std::to_string(index));
  const SystemIdentity& id = event.identity;
  for (const std::string* field :
       {&id.system_name, &id.product, &id.product_type, &id.software_version, &id.serial_number,
        &id.mac_address, &id.ipv4_address, &id.ipv6_address, &id.h323_id, &id.e164, &id.sip_uri}) {
    appendField(material, *field);
  }
  for (const auto& [path, value] : event.values) {
    appendField(material, path);
    appendField(material, value);
  }
  return sha256Hex(material);
}

}  // namespace atrium::devices
