module github.com/example/zuora-runstatus

go 1.26.8
