#include "fakenodes/chain.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "jsonrpc/jsonrpc.hpp"
#include "text/ascii.hpp"

namespace vixy::fakenodes {
namespace {

using jsonrpc::to_quantity;

constexpr std::string_view kEmptyUnclesHash =
    "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347";
constexpr std::uint64_t kGasLimit = 30'000'000;
constexpr std::uint64_t kGasPerTx = 21'000;
constexpr std::uint64_t kBaseFee = 1'000'000'000;

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::array<unsigned char, 32> sha256(std::string_view data) {
  std::array<unsigned char, 32> digest{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1 || size != 32) {
    throw std::runtime_error("SHA-256 failed");  // only when OpenSSL itself is broken
  }
  return digest;
}

std::string to_hex(const unsigned char* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "0x";
  out.reserve(2 + size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0xf]);
  }
  return out;
}

std::uint64_t height_at(std::int64_t now, std::uint64_t block_time_ms) {
  if (now <= kEpochMs || block_time_ms == 0) return kGenesisHeight;
  return kGenesisHeight + static_cast<std::uint64_t>(now - kEpochMs) / block_time_ms;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Chain::Chain(ChainParams params, const std::vector<Fork>& forks) : params_(params) {
  if (params_.block_time_ms == 0) throw std::invalid_argument("block time must be positive");
  versions_.push_back({std::to_string(params_.seed), 0, 0});
  for (const auto& f : forks) fork(f);
}

void Chain::fork(Fork fork) {
  if (fork.from_height == 0) throw std::invalid_argument("a fork starts at height 1 or above");
  // The fork's identity is its parent block's hash and its seed: the same fork on the same chain
  // gives the same blocks on every node, and a fork on another ancestry gives other blocks.
  std::string parent_hash = block_hash(fork.from_height - 1);
  auto digest = sha256("vixy-fork:" + parent_hash + ":" + std::to_string(fork.fork_seed));
  std::string tag = std::to_string(params_.seed) + "/" + to_hex(digest.data(), 8).substr(2);
  versions_.push_back({std::move(tag), fork.from_height, tip()});
  forks_.push_back(fork);
}

std::size_t Chain::owner(std::size_t version, std::uint64_t height) const {
  while (version != 0 && height < versions_[version].from) version = versions_[version].parent;
  return version;
}

std::int64_t Chain::next_block_ms(std::uint64_t height) const {
  std::uint64_t blocks = height >= kGenesisHeight ? height - kGenesisHeight + 1 : 1;
  return kEpochMs + static_cast<std::int64_t>(blocks * params_.block_time_ms);
}

std::string Chain::block_hash(BlockRef block) const {
  const std::string& tag = versions_[owner(block.version, block.height)].tag;
  auto digest = sha256("vixy-block:" + tag + ":" + std::to_string(block.height));
  std::array<unsigned char, 32> hash{};
  std::copy_n(digest.begin(), 24, hash.begin());
  for (int i = 0; i < 8; ++i) hash[24 + i] = static_cast<unsigned char>(block.height >> (56 - 8 * i));
  return to_hex(hash.data(), hash.size());
}

std::optional<std::uint64_t> Chain::height_of_hash(std::string_view hash) const {
  auto found = find_block(hash);
  if (!found || owner(tip(), found->height) != found->version) return std::nullopt;
  return found->height;
}

std::optional<Chain::BlockRef> Chain::find_block(std::string_view hash) const {
  if (hash.size() != 66 || hash[0] != '0' || (hash[1] != 'x' && hash[1] != 'X')) return std::nullopt;
  std::uint64_t height = 0;
  for (std::size_t i = 50; i < 66; ++i) {
    int digit = hex_digit(hash[i]);
    if (digit < 0) return std::nullopt;
    height = (height << 4) | static_cast<std::uint64_t>(digit);
  }
  // The suffix only names a candidate height; the hash is ours only if recomputing gives it back.
  std::string wanted = text::lowercase(hash);
  for (std::size_t v = versions_.size(); v-- > 0;) {
    std::size_t own = owner(v, height);
    if (own != v && v != tip()) continue;  // that block is checked under its own version
    if (block_hash(BlockRef{height, own}) == wanted) return BlockRef{height, own};
  }
  return std::nullopt;
}

std::uint64_t Chain::timestamp(std::uint64_t height) const {
  std::int64_t blocks = static_cast<std::int64_t>(height) - static_cast<std::int64_t>(kGenesisHeight);
  std::int64_t seconds = kEpochMs / 1000 + blocks * static_cast<std::int64_t>(params_.block_time_ms) / 1000;
  return seconds < 0 ? 0 : static_cast<std::uint64_t>(seconds);
}

std::string Chain::derived(std::size_t version, std::string_view domain, std::uint64_t height,
                           std::uint64_t index) const {
  std::string input = "vixy-";
  input += domain;
  input += ":" + versions_[version].tag + ":" + std::to_string(height) + ":" + std::to_string(index);
  auto digest = sha256(input);
  return to_hex(digest.data(), digest.size());
}

std::vector<std::string> Chain::transaction_hashes(std::uint64_t height) const {
  std::vector<std::string> hashes;
  std::size_t own = owner(tip(), height);
  for (std::uint64_t i = 0; i < kTxsPerBlock; ++i) hashes.push_back(derived(own, "tx", height, i));
  return hashes;
}

std::vector<std::string> Chain::pending_transaction_hashes(std::uint64_t height) const {
  std::vector<std::string> hashes;
  // Pending transactions are not in any block yet: no fork changes them.
  for (std::uint64_t i = 0; i < kPendingTxsPerBlock; ++i) hashes.push_back(derived(0, "pending-tx", height, i));
  return hashes;
}

json Chain::transaction(std::size_t own, std::uint64_t height, std::uint64_t index) const {
  // An address is the last 20 bytes of a derived 32-byte value.
  auto address = [&](std::string_view domain) { return "0x" + derived(own, domain, height, index).substr(26); };
  auto own_derived = [&](std::string_view domain) { return derived(own, domain, height, index); };
  return json{{"blockHash", block_hash(BlockRef{height, own})},
              {"blockNumber", to_quantity(height)},
              {"chainId", to_quantity(params_.chain_id)},
              {"from", address("tx-from")},
              {"gas", to_quantity(kGasPerTx)},
              {"gasPrice", to_quantity(kBaseFee)},
              {"maxFeePerGas", to_quantity(2 * kBaseFee)},
              {"maxPriorityFeePerGas", to_quantity(1)},
              {"hash", own_derived("tx")},
              {"input", "0x"},
              {"nonce", to_quantity(height)},
              {"to", address("tx-to")},
              {"transactionIndex", to_quantity(index)},
              {"value", to_quantity(height * 1000 + index)},
              {"type", "0x2"},
              {"accessList", json::array()},
              {"v", "0x0"},
              {"r", own_derived("tx-r")},
              {"s", own_derived("tx-s")}};
}

json Chain::header(BlockRef ref) const {
  std::uint64_t height = ref.height;
  std::size_t own = owner(ref.version, height);
  auto own_derived = [&](std::string_view domain) { return derived(own, domain, height); };
  return json{{"number", to_quantity(height)},
              {"hash", block_hash(BlockRef{height, own})},
              {"parentHash", block_hash(BlockRef{height == 0 ? 0 : height - 1, own})},
              {"nonce", "0x0000000000000000"},
              {"sha3Uncles", kEmptyUnclesHash},
              {"logsBloom", "0x" + std::string(512, '0')},
              {"transactionsRoot", own_derived("transactions-root")},
              {"stateRoot", own_derived("state-root")},
              {"receiptsRoot", own_derived("receipts-root")},
              {"miner", "0x" + derived(0, "miner", 0).substr(26)},
              {"difficulty", "0x0"},
              {"extraData", "0x"},
              {"gasLimit", to_quantity(kGasLimit)},
              {"gasUsed", to_quantity(kGasPerTx * kTxsPerBlock)},
              {"timestamp", to_quantity(timestamp(height))},
              {"baseFeePerGas", to_quantity(kBaseFee)},
              {"mixHash", own_derived("mix")}};
}

json Chain::block(BlockRef ref, bool full_transactions) const {
  std::uint64_t height = ref.height;
  std::size_t own = owner(ref.version, height);
  json block = header(ref);
  json transactions = json::array();
  for (std::uint64_t i = 0; i < kTxsPerBlock; ++i) {
    if (full_transactions) {
      transactions.push_back(transaction(own, height, i));
    } else {
      transactions.push_back(derived(own, "tx", height, i));
    }
  }
  block["transactions"] = std::move(transactions);
  block["uncles"] = json::array();
  block["size"] = to_quantity(0x220 + 0x70 * kTxsPerBlock);
  return block;
}

json Chain::log(BlockRef ref, std::uint64_t index) const {
  std::uint64_t height = ref.height;
  std::size_t own = owner(ref.version, height);
  return json{{"address", log_address(height, index)},
              {"topics", json::array({log_signature(index), derived(own, "log-topic", height, index)})},
              {"data", derived(own, "log-data", height, index)},
              {"blockNumber", to_quantity(height)},
              {"blockHash", block_hash(BlockRef{height, own})},
              {"transactionHash", derived(own, "tx", height, index % kTxsPerBlock)},
              {"transactionIndex", to_quantity(index % kTxsPerBlock)},
              {"logIndex", to_quantity(index)},
              {"removed", false}};
}

std::vector<json> Chain::logs(BlockRef block) const {
  std::vector<json> logs;
  for (std::uint64_t i = 0; i < kLogsPerBlock; ++i) logs.push_back(log(block, i));
  return logs;
}

std::string Chain::balance(std::string_view address) const {
  auto digest = sha256("vixy-balance:" + text::lowercase(address));
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | digest[static_cast<std::size_t>(i)];
  return to_quantity(value);
}

std::string Chain::beacon_root(std::string_view what, std::uint64_t slot) const {
  return derived(0, std::string("beacon-") + std::string(what), slot);
}

}  // namespace vixy::fakenodes
