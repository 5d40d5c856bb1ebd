defmodule App.MixProject do
  use Mix.Project
end
