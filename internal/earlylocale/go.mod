module earlylocale.steelinspect.invalid

go 1.26.0
