#include "tests/support/chatqna_config.hpp"

#include <cctype>
#include <stdexcept>

namespace opea::test {

namespace {

bool is_index(const std::string& key) {
  if (key.empty()) return false;
  for (char c : key)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

void merge_into(YAML::Node target, const YAML::Node& patch) {
  for (const auto& kv : patch) {
    auto key = kv.first.as<std::string>();
    const YAML::Node& value = kv.second;
    const YAML::Node& current = target;  // const lookups insert nothing
    if (value.IsNull())
      target.remove(key);
    else if (value.IsMap() && current[key] && current[key].IsMap())
      merge_into(target[key], value);
    else
      target[key] = YAML::Clone(value);
  }
}

}  // namespace

chatqna_config::chatqna_config(const std::string& source_dir)
    : doc_(YAML::LoadFile(source_dir + "/examples/chatqna/chatqna.yaml")) {
  doc_["node"].remove("data_dir");
  doc_["node"].remove("http");
  auto corpus = doc_["dataprep"]["corpus"].as<std::string>();
  doc_["dataprep"]["corpus"] = source_dir + "/" + corpus;
}

chatqna_config& chatqna_config::merge(const std::string& patch) {
  auto node = YAML::Load(patch);
  if (!node.IsMap()) throw std::invalid_argument("chatqna_config::merge: not a mapping: " + patch);
  merge_into(doc_, node);
  return *this;
}

chatqna_config& chatqna_config::set(const std::string& path, const std::string& value) {
  YAML::Node at = doc_;
  std::string rest = path;
  for (;;) {
    auto dot = rest.find('.');
    auto key = rest.substr(0, dot);
    bool last = dot == std::string::npos;
    if (is_index(key) && at.IsSequence()) {
      auto i = std::stoul(key);
      if (i > at.size() || (i == at.size() && !last))
        throw std::out_of_range("chatqna_config::set: " + path);
      if (last) {
        if (i == at.size())
          at.push_back(YAML::Load(value));
        else
          at[i] = YAML::Load(value);
        return *this;
      }
      at.reset(at[i]);
    } else {
      if (last) {
        at[key] = YAML::Load(value);
        return *this;
      }
      at.reset(at[key]);
    }
    rest = rest.substr(dot + 1);
  }
}

std::string chatqna_config::yaml() const {
  YAML::Emitter out;
  out << doc_;
  return std::string{out.c_str()} + "\n";
}

}  // namespace opea::test
