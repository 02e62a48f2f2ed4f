@echo off
rem tasko's main demo on Windows: the same as ./demo (see there). Needs Maven and any JDK 21+.
rem   demo                    until q or Ctrl-C; the space bar presses the button
rem   demo --duration 5s      stops by itself and prints a summary
rem   demo --help
rem   demo --example ToyApp   another example instead, its arguments after its name
rem The first run builds the examples with Maven; later runs start the demo with java at once.
rem After changing a source, delete tasko-examples\target\demo-launch to build again.
rem The build runs in this folder; the demo itself in the caller's, so that a file named on the
rem command line lands where the caller is.
setlocal
set "ROOT=%~dp0"
set "LAUNCH=%ROOT%tasko-examples\target\demo-launch"
if not exist "%LAUNCH%" (
  echo demo: building the examples with Maven ^(the first time, this downloads what they need^)... 1>&2
  pushd "%ROOT%"
  call mvn -B -pl tasko-examples -am package -Dmaven.test.skip=true -Dmaven.javadoc.skip=true -Dmaven.source.skip=true 1>&2
  popd
)
if not exist "%LAUNCH%" (
  echo demo: the build failed ^(see above^) 1>&2
  exit /b 1
)
rem The launch file's first line is the JDK's java, the second the class path.
(
  set /p "JAVA="
  set /p "CLASSPATH_LINE="
) < "%LAUNCH%"
"%JAVA%" --enable-native-access=ALL-UNNAMED -cp "%CLASSPATH_LINE%" dev.tasko.examples.demo.Demo %*
exit /b %ERRORLEVEL%
