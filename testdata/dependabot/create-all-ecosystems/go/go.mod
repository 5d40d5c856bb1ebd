module example.com/go

go 1.23
