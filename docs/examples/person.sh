#!/bin/sh
# A person is added from the command line; every spelling is kept as given.
yaddash person add --name "Məmmədov Tofiq" --name "Мамедов Тофик" --name "Tofig Mammadov" \
  --born 1975 --role detainee --confidentiality partner --reliability high
