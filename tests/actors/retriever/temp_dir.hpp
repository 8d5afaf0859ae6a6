#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace opea::actors::testing {

/// A fresh directory under $TMPDIR (or /tmp), removed with its content.
class temp_dir {
 public:
  temp_dir() {
    auto base = std::filesystem::temp_directory_path() / "opea-test-XXXXXX";
    std::string tmpl = base.string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const { return path_; }

  /// Writes `content` to `<path>/<name>` and returns the full path.
  std::string write(const std::string& name, const std::string& content) const {
    auto full = path_ + "/" + name;
    std::ofstream out(full, std::ios::binary);
    out << content;
    return full;
  }

 private:
  std::string path_;
};

}  // namespace opea::actors::testing
