module example.com/hbaas

go 1.19
