defmodule App.MixProject do
  use Mix.Project

  defp deps do
    [{:jason, "~> 1.4"}]
  end
end
