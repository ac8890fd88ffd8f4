// A map with a size cap that forgets the least recently used entry when full: per-address state
// kept for peers (trap senders) without letting a spray of source addresses grow it without end.
#pragma once

#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>
#include <utility>

namespace atrium::ingest {

template <class Value>
class BoundedLru {
 public:
  explicit BoundedLru(std::size_t capacity) : capacity_(capacity > 0 ? capacity : 1) {}

  // The entry for `key`, marked most recently used; nullptr when absent.
  Value* find(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return &it->second->second;
  }

  // The entry for `key`, created from `init` (evicting the least recently used one when full).
  Value& findOrInsert(const std::string& key, Value init = Value()) {
    if (Value* v = find(key)) return *v;
    if (index_.size() >= capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
    order_.emplace_front(key, std::move(init));
    index_.emplace(key, order_.begin());
    return order_.front().second;
  }

  std::size_t size() const { return index_.size(); }
  std::size_t capacity() const { return capacity_; }

 private:
  using Entry = std::pair<std::string, Value>;
  std::size_t capacity_;
  std::list<Entry> order_;  // most recently used first
  std::unordered_map<std::string, typename std::list<Entry>::iterator> index_;
};

}  // namespace atrium::ingest
