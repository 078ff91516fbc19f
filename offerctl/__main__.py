from offerctl.cli import main

main()
