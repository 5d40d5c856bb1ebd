// swift-tools-version:5.9
import PackageDescription

let package = Package(
  name: "App",
  dependencies: [.package(url: "https://github.com/apple/swift-log", from: "1.5.0")]
)
