module example.com/third
